/**
 * io.pocketenv.variable.*: plaintext environment variables of the caller's sandboxes. They are
 * in the environment of the next exec, terminal or service (no restart needed).
 */
import type { Server } from '@atproto/xrpc-server';
import type { AppContext } from '../context';
import { isUniqueViolation } from '../db/errors';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors';
import { ownedSandbox } from '../xrpc/lookup';
import { authedMethod } from '../xrpc/method';
import { page } from '../xrpc/pagination';
import { wrappedAndFlat } from '../xrpc/wrap';
import type { ConfigStores } from './stores';
import { DEFAULT_ATTACHMENT_PAGE, checkEnvName, checkEnvValue } from './validate';
import { variableView } from './views';

export function registerVariableMethods(server: Server, ctx: AppContext, { variables }: ConfigStores): void {
  const owned = async (actorId: string, id: string) => {
    const row = await variables.findOwned(actorId, id);
    if (!row) throw new NotFoundError(`variable ${JSON.stringify(id)} not found`);
    return row;
  };

  authedMethod(server, ctx, 'io.pocketenv.variable.addVariable', async ({ actor, input }) => {
    const record = await ownedSandbox(ctx, actor, input.variable.sandboxId);
    const name = checkEnvName('variable.name', input.variable.name);
    const value = checkEnvValue('variable.value', input.variable.value);
    return wrappedAndFlat('variable', variableView(await variables.put(record.id, name, value)));
  });

  authedMethod(server, ctx, 'io.pocketenv.variable.getVariables', async ({ actor, params }) => {
    const sandboxId = params.sandboxId === undefined ? undefined : (await ownedSandbox(ctx, actor, params.sandboxId)).id;
    const { limit, offset } = page(params, DEFAULT_ATTACHMENT_PAGE);
    const { rows, total } = await variables.page(actor.id, sandboxId, limit, offset);
    return { variables: rows.map(variableView), total };
  });

  authedMethod(server, ctx, 'io.pocketenv.variable.getVariable', async ({ actor, params }) => {
    return wrappedAndFlat('variable', variableView(await owned(actor.id, params.id)));
  });

  authedMethod(server, ctx, 'io.pocketenv.variable.updateVariable', async ({ actor, input }) => {
    const row = await owned(actor.id, input.id);
    const patch = input.variable;
    if (patch.sandboxId !== undefined && (await ownedSandbox(ctx, actor, patch.sandboxId)).id !== row.sandbox_id) {
      throw new InvalidInputError('variable.sandboxId', 'the variable belongs to another sandbox');
    }
    const change: { name?: string; value?: string } = {};
    if (patch.name !== undefined) change.name = checkEnvName('variable.name', patch.name);
    if (patch.value !== undefined) change.value = checkEnvValue('variable.value', patch.value);
    try {
      await variables.update(row.id, change);
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`variable.name: the sandbox already has a variable named ${JSON.stringify(change.name)}`);
      throw err;
    }
    // The updated record (the Go SDK replaces its handle with the answer).
    return wrappedAndFlat('variable', variableView(await owned(actor.id, row.id)));
  });

  authedMethod(server, ctx, 'io.pocketenv.variable.deleteVariable', async ({ actor, params }) => {
    await variables.remove((await owned(actor.id, params.id)).id);
    return {};
  });
}
