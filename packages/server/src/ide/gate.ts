/**
 * The gate in front of VS Code's preview (see access.ts): runs before the preview proxy, looks
 * only at requests for the VS Code port, and either answers them itself (ticket → cookie +
 * redirect, or 401) or lets them through to the proxy. Other previews are not its business.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UpgradeHandler } from '../features';
import { configuredPreviewBase, parsePreviewRequest, type PreviewTarget } from '../ports/preview-url';
import { IdeAccess, SESSION_COOKIE, SESSION_TTL_MS, TICKET_PARAM, cookieValue } from './access';

/** code-server's port inside every sandbox (the hosted service used the same one). */
export const VSCODE_PORT = 1024;

const DENIED =
  'This VS Code is private. Open it with `pocketenv vscode <sandbox>` (or io.pocketenv.sandbox.exposeVscode): the link it gives signs you in.';

function vscodeTarget(req: IncomingMessage): PreviewTarget | undefined {
  const target = parsePreviewRequest(req);
  return target && target.port === VSCODE_PORT ? target : undefined;
}

function hasSession(access: IdeAccess, req: IncomingMessage, target: PreviewTarget): boolean {
  return access.verify('session', target.token, cookieValue(req.headers.cookie, SESSION_COOKIE));
}

function isHttps(req: IncomingMessage): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted === true) return true;
  const base = configuredPreviewBase();
  return base?.form === 'host' ? base.protocol === 'https' : (base?.origin.startsWith('https:') ?? false);
}

function sessionCookie(access: IdeAccess, req: IncomingMessage, target: PreviewTarget): string {
  const attributes = [
    `${SESSION_COOKIE}=${access.issue('session', target.token)}`,
    // Path form: only this preview's path; host form: the preview's own host.
    `Path=${target.prefix ? `${target.prefix}/` : '/'}`,
    `Max-Age=${Math.floor(SESSION_TTL_MS / 1000)}`,
    'HttpOnly',
    'SameSite=Lax',
  ];
  if (isHttps(req)) attributes.push('Secure');
  return attributes.join('; ');
}

export function gateHttp(access: IdeAccess) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const target = vscodeTarget(req);
    if (!target || target.needsSlash) return next(); // the proxy adds the slash, keeping the ticket
    const url = new URL(target.forwardPath, 'http://preview.invalid');
    const ticket = url.searchParams.get(TICKET_PARAM);
    if (ticket !== null) {
      if (!access.verify('ticket', target.token, ticket)) {
        return deny(res, 'This sign-in link has expired or is not valid. Run `pocketenv vscode <sandbox>` again for a fresh one.');
      }
      url.searchParams.delete(TICKET_PARAM);
      // 303: whatever the method was, the browser comes back with a plain GET (and the cookie).
      res.writeHead(303, { location: `${target.prefix}${url.pathname}${url.search}`, 'set-cookie': sessionCookie(access, req, target), 'cache-control': 'no-store' });
      res.end();
      return;
    }
    if (hasSession(access, req, target)) return next();
    deny(res, DENIED);
  };
}

export function gateUpgrade(access: IdeAccess): UpgradeHandler {
  return (req, socket) => {
    const target = vscodeTarget(req);
    if (!target || hasSession(access, req, target)) return false; // the preview proxy takes it
    const body = `${DENIED}\n`;
    socket.end(`HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    return true;
  };
}

function deny(res: ServerResponse, message: string): void {
  res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`${message}\n`);
}
