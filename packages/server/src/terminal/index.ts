/**
 * The terminal feature: `io.pocketenv.actor.getTerminalToken`, the terminal WebSockets (ours,
 * `/pty/<sandbox>/ws`, protocol in ./protocol.ts, and the official CLI's, ./routes.ts) and the
 * HTTP half of the SSH-style one (./ssh-routes.ts). Open terminals end when the server shuts down.
 */
import type { AppContext } from '../context';
import type { Feature } from '../features';
import { authedMethod } from '../xrpc/method';
import { registerSshRoutes } from './ssh-routes';
import { SshSessionStore } from './ssh-sessions';
import { TerminalTokenStore } from './tokens';
import { TerminalRoute } from './upgrade';

/** One route and one SSH session store per server context (tests start several servers in one process). */
const states = new WeakMap<AppContext, { route: TerminalRoute; sshSessions: SshSessionStore }>();

function stateOf(ctx: AppContext): { route: TerminalRoute; sshSessions: SshSessionStore } {
  let state = states.get(ctx);
  if (!state) {
    const sshSessions = new SshSessionStore();
    state = { route: new TerminalRoute(ctx, new TerminalTokenStore(ctx.db), sshSessions), sshSessions };
    states.set(ctx, state);
  }
  return state;
}

export const terminalFeature: Feature = {
  name: 'terminal',
  registerXrpc(server, ctx) {
    const tokens = new TerminalTokenStore(ctx.db);
    authedMethod(server, ctx, 'io.pocketenv.actor.getTerminalToken', async ({ actor }) => tokens.issue(actor));
  },
  registerRoutes(app, ctx) {
    registerSshRoutes(app, ctx, stateOf(ctx).sshSessions);
  },
  upgrade(ctx) {
    return stateOf(ctx).route.handler;
  },
  start(ctx) {
    const { route } = stateOf(ctx);
    return { stop: () => route.closeAll() };
  },
};
