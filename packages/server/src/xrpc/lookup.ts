/** Finds one of the caller's sandboxes by id or name; anyone else's is "not found" (no existence leak). */
import type { AppContext } from '../context';
import type { Actor, SandboxRecord } from '../db/schema';
import { SandboxNotFoundError } from '../errors';

export async function ownedSandbox(ctx: AppContext, actor: Actor, idOrName: string): Promise<SandboxRecord> {
  const record = await ctx.sandboxes.findOwned(actor.id, idOrName);
  if (!record) throw new SandboxNotFoundError(idOrName);
  return record;
}
