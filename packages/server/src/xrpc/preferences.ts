/**
 * io.pocketenv.sandbox.getPreferences / putPreferences. Supported item: sandboxDetailsPref
 * (name, description, topics, repo). Other item types the hosted web app sends (provider
 * credentials, …) are refused with a 400 naming the item, rather than silently ignored.
 */
import type { Server } from '@atproto/xrpc-server';
import type { SandboxDefs } from '@pocketenv/lexicons';
import type { AppContext } from '../context';
import type { SandboxUpdate } from '../db/schema';
import { isUniqueViolation } from '../db/errors';
import { InvalidInputError } from '../errors';
import { nameTaken, validateName } from '../sandboxes/names';
import { parseTopics } from '../sandboxes/view';
import { authedMethod } from './method';
import { ownedSandbox } from './lookup';

const DETAILS = 'io.pocketenv.sandbox.defs#sandboxDetailsPref';

export function registerPreferenceMethods(server: Server, ctx: AppContext): void {
  authedMethod(server, ctx, 'io.pocketenv.sandbox.getPreferences', async ({ actor, params }) => {
    const r = await ownedSandbox(ctx, actor, params.id);
    const details: SandboxDefs.SandboxDetailsPref = { name: r.name };
    if (r.description) details.description = r.description;
    const topics = parseTopics(r.topics);
    if (topics) details.topics = topics;
    if (r.repo) details.repo = r.repo;
    return { preferences: [{ $type: DETAILS, ...details }] };
  });

  authedMethod(server, ctx, 'io.pocketenv.sandbox.putPreferences', async ({ actor, input }) => {
    const record = await ownedSandbox(ctx, actor, input.sandboxId);
    const patch: SandboxUpdate = {};
    input.preferences.forEach((item, i) => {
      if (item.$type !== DETAILS && item.$type !== 'sandboxDetailsPref') {
        throw new InvalidInputError(`preferences[${i}]`, `preference type ${item.$type} is not supported by this server; supported: ${DETAILS}`);
      }
      const pref = item as SandboxDefs.SandboxDetailsPref;
      if (pref.name !== undefined) patch.name = validateName(pref.name, `preferences[${i}].name`);
      if (pref.description !== undefined) patch.description = pref.description;
      if (pref.topics !== undefined) patch.topics = JSON.stringify(pref.topics);
      if (pref.repo !== undefined) patch.repo = pref.repo;
    });
    if (Object.keys(patch).length === 0) return {};
    try {
      await ctx.sandboxes.update(record.id, patch);
    } catch (err) {
      if (isUniqueViolation(err)) throw nameTaken(patch.name!);
      throw err;
    }
    return {};
  });
}
