/**
 * What crosses the preview proxy, in each direction. The app in a sandbox is untrusted: it must
 * never see the server's credentials, nor set a cookie that would reach the API, the dashboard,
 * VS Code or another preview.
 *
 * To the app:
 *   - hop-by-hop headers are dropped (RFC 9110 §7.6.1);
 *   - our cookies (`pocketenv_…`, cookies.ts) are taken out of Cookie; the app's own stay;
 *   - `Authorization` is dropped when it carries a token of this server: a bearer token it
 *     issued (active, expired or revoked) or a terminal token (`ptt_…`). Any other Authorization
 *     (Basic, the app's own bearer tokens) is the app's business and reaches it: stripping them
 *     all would break apps that do their own auth on their own origin;
 *   - the client's `Forwarded`, `X-Forwarded-*` and `X-Real-IP` are replaced by ours.
 * From the app:
 *   - hop-by-hop headers are dropped;
 *   - `Set-Cookie`, host form: dropped when it names one of our cookies, or has a `Domain` other
 *     than the preview's own host (a parent domain would reach the API and the other previews);
 *     the rest is host-only and passes. Path form: all dropped, since every cookie would land on
 *     the API's origin.
 */
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { AppContext } from '../context';
import { isOurCookieName, withoutOurCookies } from '../cookies';
import { TERMINAL_TOKEN_PREFIX } from '../terminal/tokens';
import type { PreviewConfig } from './preview-config';
import type { PreviewTarget } from './preview-url';

/** Headers that describe one connection, not the request (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
/** Where the request came from, as only the proxy may say. */
const CLIENT_CLAIMS = /^(forwarded|x-forwarded-.*|x-real-ip)$/;
/** Our bearer tokens are base64url of 32 bytes; anything much longer is not one, and not worth hashing. */
const MAX_TOKEN_LENGTH = 512;

function withoutHopByHop(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const listed = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && !listed.has(name)) out[name] = value;
  }
  return out;
}

/** Whether an Authorization header carries one of this server's tokens. */
async function isOurToken(ctx: AppContext, authorization: string): Promise<boolean> {
  const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
  if (!token) return false;
  if (token.startsWith(TERMINAL_TOKEN_PREFIX)) return true;
  return token.length <= MAX_TOKEN_LENGTH && ctx.actors.wasIssued(token);
}

/** The request headers the app gets (the Host header is passed unchanged). */
export async function headersForApp(ctx: AppContext, req: IncomingMessage, target: PreviewTarget): Promise<IncomingHttpHeaders> {
  const headers = withoutHopByHop(req.headers);
  for (const name of Object.keys(headers)) if (CLIENT_CLAIMS.test(name)) delete headers[name];
  const cookie = withoutOurCookies(headers.cookie);
  if (cookie === undefined) delete headers.cookie;
  else headers.cookie = cookie;
  if (headers.authorization !== undefined && (await isOurToken(ctx, headers.authorization))) delete headers.authorization;

  headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
  headers['x-forwarded-proto'] = forwardedProto(ctx.config.preview, req, target);
  if (req.headers.host) headers['x-forwarded-host'] = req.headers.host;
  if (target.prefix) headers['x-forwarded-prefix'] = target.prefix;
  return headers;
}

/** The scheme the client used: TLS here, or (behind a TLS proxy) the scheme of the configured URL. */
function forwardedProto(preview: PreviewConfig, req: IncomingMessage, target: PreviewTarget): 'http' | 'https' {
  if ((req.socket as { encrypted?: boolean }).encrypted === true) return 'https';
  if (!target.prefix) return preview.host.protocol;
  return preview.path && preview.path.origin?.startsWith('https:') ? 'https' : 'http';
}

/** The response headers the client gets from the app. */
export function headersFromApp(answer: IncomingMessage, target: PreviewTarget): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = withoutHopByHop(answer.headers);
  const cookies = target.prefix ? [] : (answer.headers['set-cookie'] ?? []).filter((c) => isAppCookieFor(target.host, c));
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  else delete headers['set-cookie'];
  return headers;
}

/** Whether a Set-Cookie from the app at `host` sets a cookie of that host only, and not one of ours. */
function isAppCookieFor(host: string, setCookie: string): boolean {
  const [pair = '', ...attributes] = setCookie.split(';');
  const eq = pair.indexOf('=');
  // Without '=', browsers take the whole pair as the value of a cookie with an empty name.
  if (isOurCookieName(eq < 0 ? '' : pair.slice(0, eq))) return false;
  return attributes.every((attribute) => {
    const eqAt = attribute.indexOf('=');
    if (eqAt < 0 || attribute.slice(0, eqAt).trim().toLowerCase() !== 'domain') return true;
    const domain = attribute.slice(eqAt + 1).trim().replace(/^\./, '').toLowerCase();
    // An empty Domain is ignored by browsers (the cookie stays host-only).
    return domain === '' || domain === host;
  });
}
