/** io.pocketenv.actor.getProfile and getActorSandboxes. */
import type { Server } from '@atproto/xrpc-server';
import type { ActorDefs } from '@pocketenv/lexicons';
import type { AppContext } from '../context';
import type { Actor } from '../db/schema';
import { NotFoundError } from '../errors';
import { toSandboxView } from '../sandboxes/view';
import { authedMethod } from './method';
import { DEFAULT_SANDBOX_PAGE, page } from './pagination';

export function registerActorMethods(server: Server, ctx: AppContext): void {
  authedMethod(server, ctx, 'io.pocketenv.actor.getProfile', async ({ actor, params }) => {
    if (params.did === undefined) return profileOf(actor);
    const other = await ctx.actors.findByDidOrHandle(params.did);
    if (!other) throw new NotFoundError(`no actor ${JSON.stringify(params.did)} on this server`);
    return profileOf(other);
  });

  // Another actor's sandboxes are never listed: the answer for any other DID is empty.
  authedMethod(server, ctx, 'io.pocketenv.actor.getActorSandboxes', async ({ actor, params }) => {
    if (params.did !== actor.did && params.did !== actor.handle) return { sandboxes: [], total: 0 };
    const status = params.isRunning === undefined ? undefined : params.isRunning ? ('RUNNING' as const) : ('STOPPED' as const);
    const { records, total } = await ctx.sandboxes.listOwned(actor.id, { ...page(params, DEFAULT_SANDBOX_PAGE), status });
    return { sandboxes: records.map(toSandboxView), total };
  });
}

/**
 * Every field the official clients read is present: the hosted CLI's `whoami` prints
 * displayName (the handle stands in when none is set); the Gleam, Elixir and Clojure SDKs
 * decode `id` and `avatar` (local actors have no picture: empty string).
 */
function profileOf(actor: Actor): ActorDefs.ProfileView {
  return {
    id: actor.id,
    did: actor.did,
    handle: actor.handle,
    displayName: actor.display_name || actor.handle,
    avatar: '',
    createdAt: actor.created_at,
    updatedAt: actor.updated_at,
  };
}
