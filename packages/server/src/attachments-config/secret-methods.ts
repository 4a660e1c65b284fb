/**
 * io.pocketenv.secret.*: like variables, but the value arrives sealed (or in plaintext, which
 * the server seals), is stored sealed, is opened only to go into a sandbox's environment, and
 * is never returned.
 */
import type { Server } from '@atproto/xrpc-server';
import type { AppContext } from '../context';
import { isUniqueViolation } from '../db/errors';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors';
import { ownedSandbox } from '../xrpc/lookup';
import { authedMethod } from '../xrpc/method';
import { page } from '../xrpc/pagination';
import { wrappedAndFlat } from '../xrpc/wrap';
import { acceptSealedText } from './sealed';
import type { ConfigStores } from './stores';
import { DEFAULT_ATTACHMENT_PAGE, checkEnvName, checkEnvValue } from './validate';
import { secretView } from './views';

/** Takes a secret value (sealed to this server, or plaintext) and checks it; returns what is stored (the sealed form). */
export async function checkSealedSecret(ctx: AppContext, field: string, value: string): Promise<string> {
  const accepted = await acceptSealedText(ctx.keys, field, value);
  checkEnvValue(field, accepted.text);
  return accepted.sealed;
}

export function registerSecretMethods(server: Server, ctx: AppContext, { secrets }: ConfigStores): void {
  const owned = async (actorId: string, id: string) => {
    const row = await secrets.findOwned(actorId, id);
    if (!row) throw new NotFoundError(`secret ${JSON.stringify(id)} not found`);
    return row;
  };

  authedMethod(server, ctx, 'io.pocketenv.secret.addSecret', async ({ actor, input }) => {
    const record = await ownedSandbox(ctx, actor, input.secret.sandboxId);
    const name = checkEnvName('secret.name', input.secret.name);
    const sealed = await checkSealedSecret(ctx, 'secret.value', input.secret.value);
    return wrappedAndFlat('secret', secretView(await secrets.put(record.id, name, sealed)));
  });

  authedMethod(server, ctx, 'io.pocketenv.secret.getSecrets', async ({ actor, params }) => {
    const sandboxId = params.sandboxId === undefined ? undefined : (await ownedSandbox(ctx, actor, params.sandboxId)).id;
    const { limit, offset } = page(params, DEFAULT_ATTACHMENT_PAGE);
    const { rows, total } = await secrets.page(actor.id, sandboxId, limit, offset);
    return { secrets: rows.map(secretView), total };
  });

  authedMethod(server, ctx, 'io.pocketenv.secret.getSecret', async ({ actor, params }) => {
    return wrappedAndFlat('secret', secretView(await owned(actor.id, params.id)));
  });

  authedMethod(server, ctx, 'io.pocketenv.secret.updateSecret', async ({ actor, input }) => {
    const row = await owned(actor.id, input.id);
    const patch = input.secret;
    if (patch.sandboxId !== undefined && (await ownedSandbox(ctx, actor, patch.sandboxId)).id !== row.sandbox_id) {
      throw new InvalidInputError('secret.sandboxId', 'the secret belongs to another sandbox');
    }
    const change: { name?: string; sealed_value?: string } = {};
    if (patch.name !== undefined) change.name = checkEnvName('secret.name', patch.name);
    if (patch.value !== undefined) change.sealed_value = await checkSealedSecret(ctx, 'secret.value', patch.value);
    try {
      await secrets.update(row.id, change);
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`secret.name: the sandbox already has a secret named ${JSON.stringify(change.name)}`);
      throw err;
    }
    // The updated record (the Go SDK replaces its handle with the answer).
    return wrappedAndFlat('secret', secretView(await owned(actor.id, row.id)));
  });

  authedMethod(server, ctx, 'io.pocketenv.secret.deleteSecret', async ({ actor, params }) => {
    await secrets.remove((await owned(actor.id, params.id)).id);
    return {};
  });
}
