/**
 * Exposed ports and the preview proxy: exposePort/unexposePort/getExposedPorts, and the
 * HTTP + WebSocket proxy that makes a preview URL reach `<sandbox address>:<port>`.
 * Ports are rows, so they survive stop/start; the proxy works whenever the sandbox runs.
 * Other features: see ./api.ts (exposeInternalPort, hostFormUrl).
 */
import type { Express, RequestHandler } from 'express';
import type { AppContext } from '../context';
import type { Feature } from '../features';
import { registerPortMethods } from './methods';
import { PreviewProxy } from './proxy';

export { exposeInternalPort, hostFormUrl, type PortRow } from './api';

const proxies = new WeakMap<AppContext, PreviewProxy>();

function proxyOf(ctx: AppContext): PreviewProxy {
  let proxy = proxies.get(ctx);
  if (!proxy) {
    proxy = new PreviewProxy(ctx);
    proxies.set(ctx, proxy);
  }
  return proxy;
}

/**
 * A host-form preview owns every path of its host, `/` and `/xrpc/…` included, so the proxy
 * must see requests before the server's own routes; features are mounted after those
 * (app.ts). Its layer is moved to just before the first route, i.e. after the request-id and
 * access-log middleware. (A `registerEarlyRoutes` in Feature would make this unnecessary.)
 */
export function serveBeforeRoutes(app: Express, handler: RequestHandler): void {
  app.use(handler);
  const stack = (app as unknown as { _router?: { stack: Array<{ route?: unknown }> } })._router?.stack;
  if (!stack) return;
  const layer = stack.pop()!;
  const firstRoute = stack.findIndex((l) => l.route !== undefined);
  stack.splice(firstRoute < 0 ? stack.length : firstRoute, 0, layer);
}

/**
 * `*.localhost` resolves to loopback on the machine that opens the URL: a server reachable from
 * other machines with the default preview setting hands them URLs that point at themselves.
 */
function warnWhenOnlyLocal(ctx: AppContext): void {
  const loopback = ctx.config.host === 'localhost' || ctx.config.host === '::1' || ctx.config.host.startsWith('127.');
  if (ctx.config.preview.host.domain === 'localhost' && !loopback) {
    ctx.log.warn('preview URLs use *.localhost, which only resolves on the machine that opens them; set POCKETENV_PREVIEW_URL (e.g. https://*.preview.example.com) for other machines', { host: ctx.config.host });
  }
}

export const portsFeature: Feature = {
  name: 'ports',
  registerXrpc(server, ctx) {
    registerPortMethods(server, ctx);
    warnWhenOnlyLocal(ctx);
  },
  registerRoutes(app, ctx) {
    serveBeforeRoutes(app, proxyOf(ctx).handle as RequestHandler);
  },
  upgrade(ctx) {
    return proxyOf(ctx).upgrade;
  },
};
