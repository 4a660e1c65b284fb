/**
 * Browser VS Code (`io.pocketenv.sandbox.exposeVscode`): code-server, built once per machine
 * into a shared read-only tools dir (runtime `ensureCodeServer`, run by the server's build queue:
 * a call before it is built starts or moves up that build and answers 503 NotReady at once) that the local provider mounts
 * into every sandbox at /opt/pocketenv/tools, started inside the sandbox on demand, reached
 * through the preview proxy on port 1024 in the host form (its own browser origin), and gated so
 * only the owner gets in (access.ts, gate.ts).
 */
import type { RequestHandler } from 'express';
import { codeServerTool } from '@pocketenv/runtime';
import { codeServerReady } from '../bases/jobs';
import type { AppContext } from '../context';
import { InvalidStateError, NotImplementedError } from '../errors';
import type { Feature } from '../features';
import { exposeInternalPort, hostFormUrl, serveBeforeRoutes } from '../ports/index';
import { ownedSandbox } from '../xrpc/lookup';
import { authedMethod } from '../xrpc/method';
import { IdeAccess, TICKET_PARAM } from './access';
import { VSCODE_PORT, gateHttp, gateUpgrade } from './gate';
import { startCodeServer } from './launch';

/** Providers whose sandboxes see the host's tools dir (runtime local/tools/mount.ts; docker binds it when its engine is on this host). */
const SUPPORTED_PROVIDERS = new Set(['local', 'docker']);

const accessByCtx = new WeakMap<AppContext, IdeAccess>();
function accessOf(ctx: AppContext): IdeAccess {
  let access = accessByCtx.get(ctx);
  if (!access) accessByCtx.set(ctx, (access = new IdeAccess(ctx.keys)));
  return access;
}

export const ideFeature: Feature = {
  name: 'ide',
  registerXrpc(server, ctx) {
    const log = ctx.log.child({ feature: 'ide' });
    authedMethod(server, ctx, 'io.pocketenv.sandbox.exposeVscode', async ({ actor, params, req }) => {
      const record = await ownedSandbox(ctx, actor, params.id);
      if (!SUPPORTED_PROVIDERS.has(record.provider)) {
        throw new NotImplementedError(`VS Code is available for sandboxes of the local and docker providers; ${record.name} runs on ${record.provider}`);
      }
      if (record.status !== 'RUNNING') throw new InvalidStateError(`sandbox ${record.name} is ${record.status}, not RUNNING; start it first`);
      await codeServerReady(ctx.builds, ctx.config.local);
      await startCodeServer(ctx, record, codeServerTool(), VSCODE_PORT);
      const row = await exposeInternalPort(ctx, record, VSCODE_PORT, { description: 'VS Code Server' });
      const url = new URL(hostFormUrl(ctx.config.preview, req, row));
      url.searchParams.set(TICKET_PARAM, accessOf(ctx).issue('ticket', row.token));
      log.info('vscode exposed', { sandbox: record.id });
      return { previewUrl: url.toString() };
    });
  },
  registerRoutes(app, ctx) {
    // The gate guards the preview proxy, so it must run before it (and before the server's own routes).
    serveBeforeRoutes(app, gateHttp(accessOf(ctx), ctx.config.preview) as RequestHandler);
  },
  upgrade(ctx) {
    return gateUpgrade(accessOf(ctx), ctx.config.preview);
  },
};
