/** io.pocketenv.sandbox.createSandbox, startSandbox, stopSandbox, deleteSandbox, claimSandbox. */
import type { Server } from '@atproto/xrpc-server';
import type { AppContext } from '../context';
import { prepareCreateAttachments } from '../attachments-config/index';
import { countInstall } from '../bases/installs';
import { SandboxNotFoundError } from '../errors';
import { isUniqueViolation } from '../db/errors';
import { nameTaken } from '../sandboxes/names';
import { createFieldsOf } from '../sandboxes/orchestrator';
import { toSandboxView } from '../sandboxes/view';
import { authedMethod } from './method';
import { ownedSandbox } from './lookup';
import { wrappedAndFlat } from './wrap';

export function registerLifecycleMethods(server: Server, ctx: AppContext): void {
  authedMethod(server, ctx, 'io.pocketenv.sandbox.createSandbox', async ({ actor, input }) => {
    // Variables and secrets are checked first (400 before anything exists), stored before the first start.
    const attach = await prepareCreateAttachments(ctx, input.envs, input.secrets);
    const record = await ctx.orchestrator.create(actor, { ...createFieldsOf(input), attach });
    await countInstall(ctx.db, record.provider, record.base);
    return toSandboxView(record);
  });

  authedMethod(server, ctx, 'io.pocketenv.sandbox.startSandbox', async ({ actor, params, input }) => {
    const record = await ownedSandbox(ctx, actor, params.id);
    await ctx.orchestrator.start(record, { repo: input?.repo, keepAlive: input?.keepAlive });
    return {};
  });

  authedMethod(server, ctx, 'io.pocketenv.sandbox.stopSandbox', async ({ actor, params }) => {
    const record = await ownedSandbox(ctx, actor, params.id);
    await ctx.orchestrator.stop(record);
    return {};
  });

  authedMethod(server, ctx, 'io.pocketenv.sandbox.deleteSandbox', async ({ actor, params }) => {
    const record = await ownedSandbox(ctx, actor, params.id);
    await ctx.orchestrator.delete(record);
    return {};
  });

  // Claiming makes an unowned (anonymous) sandbox the caller's. This server does not create
  // anonymous sandboxes yet, so in practice only the caller's own sandbox is found (and
  // returned as is); anyone else's is not found.
  authedMethod(server, ctx, 'io.pocketenv.sandbox.claimSandbox', async ({ actor, params }) => {
    const record =
      (await ctx.sandboxes.findOwned(actor.id, params.id)) ??
      (await ctx.sandboxes.claimUnowned(actor.id, params.id).catch((err: unknown) => {
        // The unowned sandbox's name is one the caller already uses.
        throw isUniqueViolation(err) ? nameTaken(params.id, 'id') : err;
      }));
    if (!record) throw new SandboxNotFoundError(params.id);
    return wrappedAndFlat('sandbox', toSandboxView(record));
  });
}
