/**
 * Preview settings, read once at start (config.ts) and injected wherever previews are built or
 * recognised. See preview-url.ts for what the two address forms are and why the host form is
 * the default.
 *
 *   POCKETENV_PREVIEW_URL   where host-form previews live: a wildcard URL,
 *                           `http://*.localhost:8789` or `https://*.preview.example.com`.
 *                           Unset: `http://*.localhost:<the port the caller reached the API on>`.
 *   POCKETENV_PREVIEW_PATH  the path form `/preview/<label>/`, off unless set: `on` (on the origin
 *                           the caller reached the API on) or an origin (`https://pocketenv.example.com`).
 *   POCKETENV_PREVIEW_HEADERS_TIMEOUT  how long an app may take to send its response headers.
 *   POCKETENV_PREVIEW_MAX_CONNECTIONS  connections (requests and WebSockets) open at once per preview.
 */
import { isIP } from 'node:net';
import { ConfigError, type Settings } from '@pocketenv/config';

export interface PreviewHostForm {
  protocol: 'http' | 'https';
  /** Previews are `<label>.<domain>` (lower case, no port). */
  domain: string;
  /** `:8789`, '' (the protocol's default port), or undefined: the port the caller reached the API on. */
  port: string | undefined;
}

export interface PreviewConfig {
  host: PreviewHostForm;
  /** The path form: off (false), on the caller's origin (`{}`), or on a fixed origin. */
  path: false | { origin?: string };
  /** Longest wait for an app's response headers once the request was sent to it; then 504. */
  headersTimeoutMs: number;
  /** Most connections (HTTP requests in flight and WebSockets) one preview may have open at once. */
  maxConnections: number;
}

export const DEFAULT_PREVIEW_HEADERS_TIMEOUT_MS = 30_000;
export const DEFAULT_PREVIEW_MAX_CONNECTIONS = 128;
/** `localhost` and its subdomains resolve to loopback in browsers and curl (RFC 6761). */
const DEFAULT_HOST_FORM: PreviewHostForm = { protocol: 'http', domain: 'localhost', port: undefined };

export function resolvePreviewConfig(settings: Settings): PreviewConfig {
  const headersTimeoutMs = settings.duration('POCKETENV_PREVIEW_HEADERS_TIMEOUT', DEFAULT_PREVIEW_HEADERS_TIMEOUT_MS);
  if (headersTimeoutMs <= 0) {
    throw new ConfigError('POCKETENV_PREVIEW_HEADERS_TIMEOUT', 'must be more than 0: an app that never answers would hold its connection forever');
  }
  const hostForm = settings.raw('POCKETENV_PREVIEW_URL');
  return {
    host: hostForm === undefined ? DEFAULT_HOST_FORM : parseHostForm(hostForm),
    path: parsePathForm(settings.raw('POCKETENV_PREVIEW_PATH')),
    headersTimeoutMs,
    maxConnections: settings.integer('POCKETENV_PREVIEW_MAX_CONNECTIONS', DEFAULT_PREVIEW_MAX_CONNECTIONS, { min: 1 }),
  };
}

function parseHostForm(value: string): PreviewHostForm {
  const usage = 'must be a wildcard URL such as http://*.localhost:8789 or https://*.preview.example.com (each preview gets its own host)';
  const wildcard = /^(https?):\/\/\*\.([^/?#]+?)\/?$/i.exec(value.trim());
  if (!wildcard) {
    const pathHint = /^https?:\/\/[^*]/i.test(value) ? `; for path-form previews on one origin set POCKETENV_PREVIEW_PATH=${value} instead` : '';
    throw new ConfigError('POCKETENV_PREVIEW_URL', `${usage}${pathHint}; got ${JSON.stringify(value)}`);
  }
  const notDns = `${usage}, under a DNS name (not an IP address); got ${JSON.stringify(value)}`;
  if (isIP(wildcard[2]!.replace(/:\d*$/, '')) !== 0 || wildcard[2]!.startsWith('[')) throw new ConfigError('POCKETENV_PREVIEW_URL', notDns);
  let url: URL;
  try {
    url = new URL(`${wildcard[1]}://preview-label.${wildcard[2]}/`);
  } catch {
    throw new ConfigError('POCKETENV_PREVIEW_URL', `${usage}; got ${JSON.stringify(value)}`);
  }
  const domain = url.hostname.slice('preview-label.'.length);
  if (url.username || url.password || !domain || domain.endsWith('.')) throw new ConfigError('POCKETENV_PREVIEW_URL', notDns);
  return { protocol: wildcard[1]!.toLowerCase() as 'http' | 'https', domain, port: url.port ? `:${url.port}` : '' };
}

function parsePathForm(value: string | undefined): PreviewConfig['path'] {
  const v = value?.trim() ?? '';
  if (v === '' || v === '0' || v === 'off' || v === 'false') return false;
  if (v === '1' || v === 'on' || v === 'true') return {};
  let url: URL | undefined;
  try {
    url = new URL(v);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search || url.username) {
    throw new ConfigError('POCKETENV_PREVIEW_PATH', `must be off, on, or an origin such as https://pocketenv.example.com; got ${JSON.stringify(value)}`);
  }
  return { origin: url.origin };
}
