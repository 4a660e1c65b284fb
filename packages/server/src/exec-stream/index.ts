/**
 * Streaming exec: `/exec/<sandbox>/ws` (protocol in ./protocol.ts). Output arrives as it is
 * produced, stdin streams in, the exit code comes last. The buffered XRPC `exec` stays.
 */
import type { AppContext } from '../context';
import type { Feature } from '../features';
import { TerminalTokenStore } from '../terminal/tokens';
import { ExecStreamRoute } from './route';

const routes = new WeakMap<AppContext, ExecStreamRoute>();

function routeOf(ctx: AppContext): ExecStreamRoute {
  let route = routes.get(ctx);
  if (!route) {
    route = new ExecStreamRoute(ctx, new TerminalTokenStore(ctx.db));
    routes.set(ctx, route);
  }
  return route;
}

export const execStreamFeature: Feature = {
  name: 'exec-stream',
  upgrade(ctx) {
    return routeOf(ctx).handler;
  },
  start(ctx) {
    const route = routeOf(ctx);
    return { stop: () => route.closeAll() };
  },
};
