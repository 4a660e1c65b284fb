/**
 * The gate in front of VS Code's preview (see access.ts): runs before the preview proxy, looks
 * only at requests for the VS Code port, and either answers them itself (ticket → cookie +
 * redirect, or 401) or lets them through to the proxy. Other previews are not its business.
 *
 * VS Code is served in the host form only, `1024-<token>.<preview domain>`: its own browser
 * origin, apart from the API's and every other preview's. Whatever answers on port 1024 is
 * chosen by the sandbox (it can replace code-server), so it must never run on the API's origin:
 * a path-form request for port 1024 is refused even when the path form is on.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { cookieValue } from '../cookies';
import type { UpgradeHandler } from '../features';
import type { PreviewConfig } from '../ports/preview-config';
import { parsePreviewRequest, type PreviewTarget } from '../ports/preview-url';
import { IdeAccess, SESSION_COOKIE, SESSION_TTL_MS, TICKET_PARAM } from './access';

/** code-server's port inside every sandbox (the hosted service used the same one). */
export const VSCODE_PORT = 1024;

const DENIED =
  'This VS Code is private. Open it with `pocketenv vscode <sandbox>` (or io.pocketenv.sandbox.exposeVscode): the link it gives signs you in.';
const NOT_HERE = 'VS Code is served only on its own host, never under /preview/ on the API. Open the link `pocketenv vscode <sandbox>` gives.';

function vscodeTarget(preview: PreviewConfig, req: IncomingMessage): PreviewTarget | undefined {
  const target = parsePreviewRequest(preview, req);
  return target && target.port === VSCODE_PORT ? target : undefined;
}

function hasSession(access: IdeAccess, req: IncomingMessage, target: PreviewTarget): boolean {
  return access.verify('session', target.token, cookieValue(req.headers.cookie, SESSION_COOKIE));
}

function sessionCookie(access: IdeAccess, preview: PreviewConfig, req: IncomingMessage, target: PreviewTarget): string {
  const attributes = [
    `${SESSION_COOKIE}=${access.issue('session', target.token)}`,
    // No Domain attribute: the cookie is host-only, sent to this VS Code's host and nowhere else.
    'Path=/',
    `Max-Age=${Math.floor(SESSION_TTL_MS / 1000)}`,
    'HttpOnly',
    'SameSite=Lax',
  ];
  const tls = (req.socket as { encrypted?: boolean }).encrypted === true;
  if (tls || preview.host.protocol === 'https') attributes.push('Secure');
  return attributes.join('; ');
}

export function gateHttp(access: IdeAccess, preview: PreviewConfig) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const target = vscodeTarget(preview, req);
    if (!target) return next();
    if (target.prefix) return answer(res, 404, NOT_HERE);
    const url = new URL(target.forwardPath, 'http://preview.invalid');
    const ticket = url.searchParams.get(TICKET_PARAM);
    if (ticket !== null) {
      if (!access.verify('ticket', target.token, ticket)) {
        return answer(res, 401, 'This sign-in link has expired or is not valid. Run `pocketenv vscode <sandbox>` again for a fresh one.');
      }
      url.searchParams.delete(TICKET_PARAM);
      // 303: whatever the method was, the browser comes back with a plain GET (and the cookie).
      res.writeHead(303, { location: `${url.pathname}${url.search}`, 'set-cookie': sessionCookie(access, preview, req, target), 'cache-control': 'no-store' });
      res.end();
      return;
    }
    if (hasSession(access, req, target)) return next();
    answer(res, 401, DENIED);
  };
}

export function gateUpgrade(access: IdeAccess, preview: PreviewConfig): UpgradeHandler {
  return (req, socket) => {
    const target = vscodeTarget(preview, req);
    if (!target || (!target.prefix && hasSession(access, req, target))) return false; // the preview proxy takes it
    const [status, body] = target.prefix ? ['404 Not Found', `${NOT_HERE}\n`] : ['401 Unauthorized', `${DENIED}\n`];
    socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    return true;
  };
}

function answer(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`${message}\n`);
}
