/**
 * Helpers for the docker provider's tests. They need a Docker Engine: CI starts one with
 * scripts/dockerd.sh; when none answers, the tests say so loudly and skip (like the local
 * provider's tests without root).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultEndpoint, DEFAULT_DOCKER_SOCKET } from '../../src/docker/connection';
import { DockerProvider } from '../../src/docker/index';

/** Why the docker provider cannot be tested here, or undefined when it can. */
export function dockerUnavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root';
  const endpoint = defaultEndpoint();
  const socket = endpoint.startsWith('unix://') ? endpoint.slice('unix://'.length) : DEFAULT_DOCKER_SOCKET;
  try {
    execFileSync('curl', ['-fsS', '--max-time', '5', '--unix-socket', socket, 'http://docker/_ping'], { stdio: 'ignore' });
  } catch {
    return `no Docker Engine answers at ${endpoint} (start one with scripts/dockerd.sh)`;
  }
  return undefined;
}

export function warnDockerSkipped(file: string, reason: string | undefined): void {
  if (reason) console.warn(`\n*** ${file}: SKIPPED — ${reason} ***\n`);
}

export function tempDockerProvider(prefix = 'pe-docker-') {
  const stateDir = join(tmpdir(), `${prefix}${randomBytes(6).toString('hex')}`);
  const provider = new DockerProvider({ stateDir });
  return { stateDir, provider };
}
