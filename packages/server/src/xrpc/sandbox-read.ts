/** io.pocketenv.sandbox.getSandbox and getSandboxes: the caller's sandboxes only. */
import type { Server } from '@atproto/xrpc-server';
import type { AppContext } from '../context';
import { toSandboxView } from '../sandboxes/view';
import { authedMethod } from './method';
import { DEFAULT_SANDBOX_PAGE, page } from './pagination';

export function registerReadMethods(server: Server, ctx: AppContext): void {
  authedMethod(server, ctx, 'io.pocketenv.sandbox.getSandbox', async ({ actor, params }) => {
    const record = await ctx.sandboxes.findOwned(actor.id, params.id);
    return { sandbox: record ? toSandboxView(record) : null };
  });

  authedMethod(server, ctx, 'io.pocketenv.sandbox.getSandboxes', async ({ actor, params }) => {
    const { records, total } = await ctx.sandboxes.listOwned(actor.id, page(params, DEFAULT_SANDBOX_PAGE));
    return { sandboxes: records.map(toSandboxView), total };
  });
}
