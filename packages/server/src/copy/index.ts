/**
 * The copy store feature: POST /cp and GET /cp/<uuid> (routes.ts), pushDirectory and
 * pullDirectory (xrpc.ts), and a sweeper that deletes expired archives.
 */
import path from 'node:path';
import type { AppContext } from '../context';
import type { Feature } from '../features';
import { registerCopyRoutes } from './routes';
import { startSweeper } from './sweeper';
import { CopyStore } from './store';
import { registerCopyMethods } from './xrpc';

const stores = new WeakMap<AppContext, CopyStore>();

/** The copy store of this server (one per context; backups reuse nothing of it but the config). */
export function copyStoreOf(ctx: AppContext): CopyStore {
  let store = stores.get(ctx);
  if (!store) {
    store = new CopyStore(ctx.db, path.join(ctx.config.dataDir, 'copy'), ctx.config.transfer.copyTtlMs);
    stores.set(ctx, store);
  }
  return store;
}

export const copyFeature: Feature = {
  name: 'copy',
  registerXrpc: (server, ctx) => registerCopyMethods(server, ctx, copyStoreOf(ctx)),
  registerRoutes: (app, ctx) => registerCopyRoutes(app, ctx, copyStoreOf(ctx)),
  start: (ctx) => startSweeper(ctx, 'copy', copyStoreOf(ctx)),
};
