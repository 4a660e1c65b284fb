/** Finds one of the caller's sandboxes by id or name; anyone else's is "not found" (no existence leak). */
import type { AppContext } from '../context';
import type { Actor, SandboxRecord } from '../db/schema';
import { InvalidInputError, SandboxNotFoundError } from '../errors';

export async function ownedSandbox(ctx: AppContext, actor: Actor, idOrName: string): Promise<SandboxRecord> {
  const record = await ctx.sandboxes.findOwned(actor.id, idOrName);
  if (!record) throw new SandboxNotFoundError(idOrName);
  return record;
}

/**
 * The sandbox of a procedure that names it in the body (`{id}`, the contract) or as the `id`
 * query parameter (the Go SDK's putSshKeys, the Gleam SDK's putTailscaleAuthKey). When both
 * are given they must name the same one of the caller's sandboxes (an id and its name do);
 * anything else is a 400 rather than a guess.
 */
export async function sandboxFromBodyOrQuery(ctx: AppContext, actor: Actor, bodyId: string | undefined, queryId: string | undefined): Promise<SandboxRecord> {
  if (bodyId === undefined || queryId === undefined || bodyId === queryId) {
    const id = bodyId ?? queryId;
    if (id === undefined) throw new InvalidInputError('id', 'is required (the sandbox id or name), in the body or as the id query parameter');
    return ownedSandbox(ctx, actor, id);
  }
  const [fromBody, fromQuery] = await Promise.all([ctx.sandboxes.findOwned(actor.id, bodyId), ctx.sandboxes.findOwned(actor.id, queryId)]);
  if (!fromBody || fromBody.id !== fromQuery?.id) {
    throw new InvalidInputError('id', `the body's id ${JSON.stringify(bodyId)} and the query's id ${JSON.stringify(queryId)} do not name the same sandbox; send one of them`);
  }
  return fromBody;
}
