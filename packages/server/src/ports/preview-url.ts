/**
 * Preview URLs: how an exposed port is addressed from outside, and how an incoming request
 * is recognised as one.
 *
 * Every exposed port gets a random token; `<port>-<token>` names it. The token is the only
 * gate (like the hosted service's preview URLs): whoever has the URL reaches the port, and
 * unexposing deletes the token, so the URL is dead for good (a re-expose makes a new one).
 * The proxy never takes an address from the request: the token leads to a database row,
 * the row to the sandbox, the provider to its address.
 *
 * Two forms reach the same port, both always served:
 * - host form  `http://3000-<token>.<any domain>[:port]/…`: the app sees `/` as its root, so
 *   apps with absolute paths work. Needs a name that resolves to the server (browsers and
 *   curl resolve `*.localhost` to loopback; Node's resolver does not) or wildcard DNS.
 * - path form  `<server>/preview/3000-<token>/…`: works with any client and no DNS; apps that
 *   link to absolute paths (`/assets/x.js`) miss the prefix.
 *
 * Which form `previewUrl` uses is `POCKETENV_PREVIEW_URL`: unset → path form on the origin the
 * caller used to reach the API; a URL with a `*` host label (`http://*.localhost:8789`,
 * `https://*.preview.example.com`) → host form; any other URL (`https://pocketenv.example.com`,
 * e.g. behind a TLS proxy) → path form on that origin.
 */
import { randomInt } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { InvalidInputError } from '../errors';

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

/** Recognises a preview request by its Host header (host form) or its path (path form). */
export function parsePreviewRequest(req: Pick<IncomingMessage, 'headers' | 'url'>): PreviewTarget | undefined {
  const url = req.url ?? '/';
  const name = hostname(req.headers.host);
  const dot = name.indexOf('.');
  const byHost = dot > 0 ? parseLabel(name.slice(0, dot)) : undefined;
  if (byHost) return { ...byHost, forwardPath: url.startsWith('/') ? url : `/${url}`, prefix: '', needsSlash: false };

  if (!url.startsWith(PREVIEW_PATH)) return undefined;
  const afterPrefix = url.slice(PREVIEW_PATH.length);
  const end = afterPrefix.search(/[/?]/);
  const label = end < 0 ? afterPrefix : afterPrefix.slice(0, end);
  const byPath = parseLabel(label);
  if (!byPath) return undefined;
  const rest = end < 0 ? '' : afterPrefix.slice(end);
  return {
    ...byPath,
    forwardPath: rest.startsWith('/') ? rest : `/${rest}`,
    prefix: `${PREVIEW_PATH}${label}`,
    needsSlash: !rest.startsWith('/'),
  };
}

type PreviewBase = { form: 'host'; protocol: string; domain: string } | { form: 'path'; origin: string };

/** Reads POCKETENV_PREVIEW_URL; throws a message naming it when it is not a usable URL. */
export function configuredPreviewBase(value = process.env.POCKETENV_PREVIEW_URL): PreviewBase | undefined {
  if (!value) return undefined;
  const wildcard = /^(https?):\/\/\*\.([^/]+?)\/?$/.exec(value);
  if (wildcard) return { form: 'host', protocol: wildcard[1]!, domain: wildcard[2]!.toLowerCase() };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`POCKETENV_PREVIEW_URL must be a URL such as http://*.localhost:8789 or https://pocketenv.example.com; got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`POCKETENV_PREVIEW_URL must be an http or https URL; got ${JSON.stringify(value)}`);
  return { form: 'path', origin: url.origin };
}

/** Where the caller reached the API: the default origin of path-form preview URLs. */
export function requestOrigin(req: Pick<IncomingMessage, 'headers' | 'socket'>): string {
  const host = req.headers.host;
  if (!host || !/^[A-Za-z0-9.:[\]-]+$/.test(host)) throw new InvalidInputError('Host', 'the request has no usable Host header to build a preview URL from');
  const tls = (req.socket as { encrypted?: boolean }).encrypted === true;
  return `${tls ? 'https' : 'http'}://${host}`;
}

/** The preview URL of an exposed port, for a caller who reached the API with `req`. */
export function previewUrlFor(req: Pick<IncomingMessage, 'headers' | 'socket'>, port: { port: number; token: string }): string {
  const base = configuredPreviewBase() ?? { form: 'path' as const, origin: requestOrigin(req) };
  const label = `${port.port}-${port.token}`;
  if (base.form === 'host') return `${base.protocol}://${label}.${base.domain}/`;
  return `${base.origin}${PREVIEW_PATH}${label}/`;
}
