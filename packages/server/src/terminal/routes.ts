/**
 * The terminal's WebSocket routes: ours and the three the official CLI speaks (it picks one
 * by the sandbox's `provider`). All of them open the same TerminalSession; they differ in
 * the path, where the credentials come from, what names the sandbox and the framing.
 *
 *   /pty/<sandbox>/ws, /tty/<sandbox>/ws   ?token=<terminal token | API token> or a bearer header,
 *                                          optional &cols=N&rows=N. Framing: binary, except with an
 *                                          API token in the URL (only the official CLI sends one):
 *                                          text, as the hosted /pty and /tty services send.
 *   /v1/sandboxes/<sandbox>/ws/terminal    ?t=<terminal token>&session=<client uuid, ignored>; the
 *                                          hosted Cloudflare worker's protocol. Framing: cloudflare.
 *   /ssh/<session id>/ws                   ?token=<API token>; the session (POST /ssh/connect) names
 *                                          the sandbox and the size. Framing: base64.
 *
 * Routes match on the path only, whatever the Host (the CLI reaches the Cloudflare route on
 * `POCKETENV_CF_URL` with `sbx` replaced by the sandbox's base, e.g. `debian.localhost`).
 */
import type { Actor } from '../db/schema';
import type { FramingName } from './framing';
import { CloseCode, DEFAULT_COLS, DEFAULT_ROWS, parseCells, sandboxOfRoute, type Resize } from './protocol';
import { Refusal, type CredentialKind, type SocketCredentials } from './socket-auth';
import type { SshSessionStore } from './ssh-sessions';

export interface TerminalTarget {
  /** The sandbox, by id or name; owner-checked by the caller of `target`. */
  idOrName: string;
  size: Resize;
}

export interface TerminalRouteSpec {
  /** For logs. */
  name: string;
  /** The path; its first group is what `target` is given. */
  path: RegExp;
  credentials: SocketCredentials;
  /** The framing, given how the caller authenticated (undefined: not yet, e.g. a refusal). */
  framing(credential: CredentialKind | undefined): FramingName;
  /** The sandbox and initial size. @throws Refusal */
  target(actor: Actor, captured: string, url: URL): TerminalTarget;
}

const TERMINAL_TOKEN_REASONS = {
  badTokenReason: 'AuthenticationRequired: the terminal token is invalid, expired or already used; get a new one from getTerminalToken',
  missingReason: 'AuthenticationRequired: pass ?token=<terminal token> (from getTerminalToken) or an Authorization: Bearer header',
};

/** The sandbox is in the path; the size in the query (ours) or the first resize frame. */
function sandboxInPath(_actor: Actor, idOrName: string, url: URL): TerminalTarget {
  const size = { cols: parseCells(url.searchParams.get('cols'), DEFAULT_COLS), rows: parseCells(url.searchParams.get('rows'), DEFAULT_ROWS) };
  return { idOrName, size };
}

/** The hosted /pty and /tty protocol sends text; our clients, which pass a terminal token or a bearer header, keep binary. */
const ptyFraming = (credential: CredentialKind | undefined): FramingName => (credential === 'queryApiToken' ? 'text' : 'binary');

export function terminalRoutes(sshSessions: SshSessionStore): TerminalRouteSpec[] {
  const pty = (name: string, path: RegExp): TerminalRouteSpec => ({
    name,
    path,
    credentials: { tokenParams: ['token', 't'], apiTokenInQuery: true, ...TERMINAL_TOKEN_REASONS },
    framing: ptyFraming,
    target: sandboxInPath,
  });
  return [
    pty('pty', /^\/pty\/([^/]+)\/ws\/?$/),
    pty('tty', /^\/tty\/([^/]+)\/ws\/?$/),
    {
      name: 'cloudflare',
      path: /^\/v1\/sandboxes\/([^/]+)\/ws\/terminal\/?$/,
      credentials: {
        tokenParams: ['t', 'token'],
        apiTokenInQuery: true,
        badTokenReason: TERMINAL_TOKEN_REASONS.badTokenReason,
        missingReason: 'AuthenticationRequired: pass ?t=<terminal token> (from getTerminalToken) or an Authorization: Bearer header',
      },
      framing: () => 'cloudflare',
      target: sandboxInPath,
    },
    {
      name: 'ssh',
      path: /^\/ssh\/([^/]+)\/ws\/?$/,
      credentials: {
        tokenParams: ['token'],
        apiTokenInQuery: true,
        badTokenReason: TERMINAL_TOKEN_REASONS.badTokenReason,
        missingReason: 'AuthenticationRequired: pass ?token=<API token> or an Authorization: Bearer header',
      },
      framing: () => 'base64',
      target(actor, sessionId) {
        const session = sshSessions.take(sessionId, actor.id);
        if (!session) {
          throw new Refusal(
            CloseCode.SANDBOX_NOT_FOUND,
            'NotFound: no such SSH session (a session is used once and expires after a minute); POST /ssh/connect for a new one',
          );
        }
        return { idOrName: session.sandboxId, size: session.size };
      },
    },
  ];
}

/** The route whose path this is, with what the path names; undefined for any other path. */
export function matchTerminalRoute(routes: readonly TerminalRouteSpec[], pathname: string): { route: TerminalRouteSpec; captured: string } | undefined {
  for (const route of routes) {
    const captured = sandboxOfRoute(route.path, pathname);
    if (captured !== undefined) return { route, captured };
  }
  return undefined;
}
