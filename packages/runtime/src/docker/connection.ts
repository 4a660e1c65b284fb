/**
 * Where the Docker Engine is and how to talk to it. The endpoint is a DOCKER_HOST-style URL
 * (`unix:///var/run/docker.sock`, `tcp://host:2376`, `ssh://user@host`), parsed once into
 * dockerode's options; TLS for tcp follows Docker's own DOCKER_TLS_VERIFY / DOCKER_CERT_PATH.
 *
 * "Local" means the engine runs on this machine (a unix socket here): only then can the
 * provider bind host directories (volumes, the tools dir) and install host firewall rules.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { ProviderError } from '../provider/errors';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

export interface DockerEndpoint {
  /** The endpoint as given (for messages). */
  url: string;
  /** The engine runs on this machine (unix socket). */
  local: boolean;
  options: Dockerode.DockerOptions;
}

/** The endpoint the Docker CLI would use: $DOCKER_HOST, else the default socket. */
export function defaultEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_HOST || `unix://${DEFAULT_DOCKER_SOCKET}`;
}

export function parseEndpoint(url: string, env: NodeJS.ProcessEnv = process.env): DockerEndpoint {
  if (url.startsWith('/')) return { url, local: true, options: { socketPath: url } };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ProviderError(`invalid Docker endpoint ${JSON.stringify(url)}: use unix:///path/docker.sock, tcp://host:port or ssh://user@host`);
  }
  switch (parsed.protocol) {
    case 'unix:':
      return { url, local: true, options: { socketPath: decodeURIComponent(parsed.pathname) } };
    case 'tcp:':
    case 'http:':
    case 'https:': {
      const tls = parsed.protocol === 'https:' || (env.DOCKER_TLS_VERIFY !== undefined && env.DOCKER_TLS_VERIFY !== '' && env.DOCKER_TLS_VERIFY !== '0');
      const options: Dockerode.DockerOptions = { host: parsed.hostname, port: parsed.port || (tls ? 2376 : 2375), protocol: tls ? 'https' : 'http' };
      if (tls) {
        const certs = env.DOCKER_CERT_PATH || join(homedir(), '.docker');
        try {
          options.ca = readFileSync(join(certs, 'ca.pem'));
          options.cert = readFileSync(join(certs, 'cert.pem'));
          options.key = readFileSync(join(certs, 'key.pem'));
        } catch (err) {
          throw new ProviderError(`Docker endpoint ${url} uses TLS but its certificates could not be read from ${certs}: ${(err as Error).message}`);
        }
      }
      return { url, local: false, options };
    }
    case 'ssh:':
      return {
        url,
        local: false,
        options: { protocol: 'ssh', host: parsed.hostname, port: parsed.port || 22, username: decodeURIComponent(parsed.username) || undefined, sshAuthAgent: env.SSH_AUTH_SOCK },
      };
    default:
      throw new ProviderError(`unsupported Docker endpoint ${JSON.stringify(url)}: use unix://, tcp:// or ssh://`);
  }
}

export function connect(endpoint: DockerEndpoint): Dockerode {
  return new Dockerode(endpoint.options);
}

/** Whether an engine answers at `endpoint` within `timeoutMs` (a `_ping`). */
export async function engineAnswers(endpoint: DockerEndpoint, timeoutMs = 3000): Promise<boolean> {
  const docker = new Dockerode({ ...endpoint.options, timeout: timeoutMs });
  try {
    await docker.ping();
    return true;
  } catch {
    return false;
  }
}
