/**
 * Preview URLs: how an exposed port is addressed from outside, and how an incoming request
 * is recognised as one.
 *
 * Every exposed port gets a random token; the label `<port>-<token>` names it. The token is the
 * only gate (like the hosted service's preview URLs): whoever has the URL reaches the port, and
 * unexposing deletes the token, so the URL is dead for good (a re-expose makes a new one).
 * The proxy never takes an address from the request: the token leads to a database row,
 * the row to the sandbox, the provider to its address.
 *
 * The host form is the default, and the only form VS Code is served in:
 *   `http://<port>-<token>.localhost:<server port>/` (or `<label>.<POCKETENV_PREVIEW_URL's domain>`).
 * Each preview is its own browser origin, apart from the API's, the dashboard's, VS Code's and
 * every other preview's: an app's scripts cannot read another origin, its cookies stay on its
 * host, and the app owns every path of it (absolute links work). Browsers and curl resolve
 * `*.localhost` to loopback (RFC 6761); Node's resolver does not (tests use `fetchPreview` from ./testing).
 *
 * The path form `<origin>/preview/<port>-<token>/` puts every preview on the API's origin, so it
 * is served only when POCKETENV_PREVIEW_PATH asks for it (for clients that are not browsers),
 * and even then the proxy lets no app cookie through (headers.ts).
 *
 * Hosts the proxy claims, exactly: `^<1-5 digits>-<20 × [a-z2-7]>.<preview domain>(:port)?$`,
 * case-insensitive. Every other host (`debian.localhost`, the API's own) passes through untouched.
 */
import { randomInt } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { InvalidInputError } from '../errors';
import type { PreviewConfig } from './preview-config';

export const PREVIEW_PATH = '/preview/';
const TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const TOKEN_LENGTH = 20; // 100 random bits
/** `<port>-<token>`: one DNS label (≤ 63 chars), also the path segment. */
const LABEL = /^([0-9]{1,5})-([a-z2-7]{20})$/;

export function newPreviewToken(): string {
  let token = '';
  for (let i = 0; i < TOKEN_LENGTH; i++) token += TOKEN_ALPHABET[randomInt(TOKEN_ALPHABET.length)];
  return token;
}

/** A request addressed to a preview. */
export interface PreviewTarget {
  port: number;
  token: string;
  /** Path and query to send to the app. */
  forwardPath: string;
  /** The preview's own host name (host form), lower case without port; '' for the path form. */
  host: string;
  /** `/preview/<label>` for the path form (sent as X-Forwarded-Prefix), '' for the host form. */
  prefix: string;
  /** A path-form URL without the slash after the label: redirect so relative links resolve. */
  needsSlash: boolean;
}

function parseLabel(label: string): { port: number; token: string } | undefined {
  const m = LABEL.exec(label);
  if (!m) return undefined;
  const port = Number(m[1]);
  return port >= 1 && port <= 65535 ? { port, token: m[2]! } : undefined;
}

/** The hostname of a Host header, lower-cased, without the port (IPv6 literals never match). */
function hostname(host: string | undefined): string {
  if (!host || host.startsWith('[')) return '';
  return host.replace(/:\d*$/, '').toLowerCase();
}

/** Recognises a preview request by its Host header (host form) or, when enabled, its path (path form). */
export function parsePreviewRequest(preview: PreviewConfig, req: Pick<IncomingMessage, 'headers' | 'url'>): PreviewTarget | undefined {
  const url = req.url ?? '/';
  const name = hostname(req.headers.host);
  const suffix = `.${preview.host.domain}`;
  const byHost = name.endsWith(suffix) ? parseLabel(name.slice(0, -suffix.length)) : undefined;
  if (byHost) return { ...byHost, forwardPath: url.startsWith('/') ? url : `/${url}`, host: name, prefix: '', needsSlash: false };

  if (!preview.path || !url.startsWith(PREVIEW_PATH)) return undefined;
  const afterPrefix = url.slice(PREVIEW_PATH.length);
  const end = afterPrefix.search(/[/?]/);
  const label = end < 0 ? afterPrefix : afterPrefix.slice(0, end);
  const byPath = parseLabel(label);
  if (!byPath) return undefined;
  const rest = end < 0 ? '' : afterPrefix.slice(end);
  return {
    ...byPath,
    forwardPath: rest.startsWith('/') ? rest : `/${rest}`,
    host: '',
    prefix: `${PREVIEW_PATH}${label}`,
    needsSlash: !rest.startsWith('/'),
  };
}

type Caller = Pick<IncomingMessage, 'headers' | 'socket'>;

/** The caller's Host header, checked: preview URLs are built from it. */
function callerHost(req: Caller): string {
  const host = req.headers.host;
  if (!host || !/^[A-Za-z0-9.:[\]-]+$/.test(host)) throw new InvalidInputError('Host', 'the request has no usable Host header to build a preview URL from');
  return host;
}

/** `:8789` when the caller reached the API on an explicit port, else ''. */
function callerPort(req: Caller): string {
  const port = /:(\d+)$/.exec(callerHost(req))?.[1];
  return port ? `:${port}` : '';
}

/** Where the caller reached the API: the origin of path-form URLs unless one is configured. */
function requestOrigin(req: Caller): string {
  const tls = (req.socket as { encrypted?: boolean }).encrypted === true;
  return `${tls ? 'https' : 'http'}://${callerHost(req)}`;
}

/** The host-form URL of a port (VS Code's always; every preview's unless the path form is on). */
export function hostFormUrl(preview: PreviewConfig, req: Caller, port: { port: number; token: string }): string {
  const { protocol, domain } = preview.host;
  return `${protocol}://${port.port}-${port.token}.${domain}${preview.host.port ?? callerPort(req)}/`;
}

/** The preview URL of an exposed port, for a caller who reached the API with `req`. */
export function previewUrlFor(preview: PreviewConfig, req: Caller, port: { port: number; token: string }): string {
  if (!preview.path) return hostFormUrl(preview, req, port);
  return `${preview.path.origin ?? requestOrigin(req)}${PREVIEW_PATH}${port.port}-${port.token}/`;
}
