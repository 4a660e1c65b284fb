/**
 * The terminal feature: `io.pocketenv.actor.getTerminalToken` and the `/pty/<sandbox>/ws`
 * WebSocket (protocol in ./protocol.ts). Open terminals end when the server shuts down.
 */
import type { AppContext } from '../context';
import type { Feature } from '../features';
import { authedMethod } from '../xrpc/method';
import { TerminalTokenStore } from './tokens';
import { TerminalRoute } from './upgrade';

/** One route per server context (tests start several servers in one process). */
const routes = new WeakMap<AppContext, TerminalRoute>();

function routeOf(ctx: AppContext): TerminalRoute {
  let route = routes.get(ctx);
  if (!route) {
    route = new TerminalRoute(ctx, new TerminalTokenStore(ctx.db));
    routes.set(ctx, route);
  }
  return route;
}

export const terminalFeature: Feature = {
  name: 'terminal',
  registerXrpc(server, ctx) {
    const tokens = new TerminalTokenStore(ctx.db);
    authedMethod(server, ctx, 'io.pocketenv.actor.getTerminalToken', async ({ actor }) => tokens.issue(actor));
  },
  upgrade(ctx) {
    return routeOf(ctx).handler;
  },
  start(ctx) {
    const route = routeOf(ctx);
    return { stop: () => route.closeAll() };
  },
};
