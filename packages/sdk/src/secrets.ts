/**
 * Secrets of a sandbox, as the seed SDK's `pocketenv/secrets`: like variables, but the value is
 * sealed here, on the client, to the server's public key (fetched once per client from
 * `describeServer`); the server stores only the sealed box, puts the plaintext only into the
 * sandbox's environment, and never returns it.
 * Calls by id (`get`, `update`, `delete`) take the connected sandbox or just a client.
 *
 * @example
 * import { secrets } from '@pocketenv/sdk';
 * await secrets.put(sb, 'API_TOKEN', process.env.API_TOKEN!);
 * const { secrets: names } = await secrets.list(sb); // ids and names, never values
 * @module
 */
import type { SandboxDefs, SecretDefs } from '@pocketenv/lexicons';
import { type Reach, clientOf, decodeList, decodeWrapped, dropUndefined, sandboxIdOf } from './attachment-wire';
import { type SandboxBuilder, stateOf, withInput } from './builder';
import type { ConnectedSandbox } from './connected';
import { sealFor } from './crypto';
import { type CallOptions, procedure, query } from './http';

/** A secret as the server returns it: `id`, `name`, `createdAt` (never the value). */
export type Secret = SecretDefs.SecretView;

export interface SecretPage {
  secrets: Secret[];
  total: number;
}

const NS = 'io.pocketenv.secret';
const FIELDS = ['id', 'name', 'createdAt'] as const;

/**
 * Seals `value` and sets the secret: adds it, or replaces the value of the one with that name.
 * @example
 * await secrets.put(sb, 'DB_PASSWORD', 'hunter2');
 */
export async function put(sb: ConnectedSandbox, name: string, value: string, opts?: CallOptions): Promise<Secret> {
  const sealed = await sealFor(sb.client, value, opts);
  const body = await procedure(sb.client, `${NS}.addSecret`, {}, { secret: { sandboxId: sb.id, name, value: sealed } }, opts);
  return decodeWrapped<Secret>(body, 'addSecret', 'secret', FIELDS);
}

/**
 * One page of the sandbox's secrets (names only), newest first.
 * @example
 * const { secrets: page, total } = await secrets.list(sb);
 */
export async function list(sb: ConnectedSandbox, limit?: number, offset?: number, opts?: CallOptions): Promise<SecretPage> {
  const body = await query(sb.client, `${NS}.getSecrets`, { sandboxId: sb.id, limit, offset }, opts);
  const { items, total } = decodeList<Secret>(body, 'getSecrets', 'secrets', FIELDS);
  return { secrets: items, total };
}

/**
 * One secret by id (its name, not its value).
 * @example
 * const s = await secrets.get(sb, 'sec_…');
 */
export async function get(target: Reach, id: string, opts?: CallOptions): Promise<Secret> {
  return decodeWrapped<Secret>(await query(clientOf(target), `${NS}.getSecret`, { id }, opts), 'getSecret', 'secret', FIELDS);
}

/**
 * Renames a secret and/or replaces its value (sealed here, unlike the hosted JS SDK's update).
 * @example
 * await secrets.update(sb, s.id, { value: 'rotated' });
 */
export async function update(target: Reach, id: string, change: { name?: string; value?: string }, opts?: CallOptions): Promise<void> {
  const client = clientOf(target);
  const value = change.value === undefined ? undefined : await sealFor(client, change.value, opts);
  await procedure(client, `${NS}.updateSecret`, {}, { id, secret: dropUndefined({ sandboxId: sandboxIdOf(target), name: change.name, value }) }, opts);
}

/**
 * Removes a secret; the next command no longer has it. Exported as `delete`.
 * @example
 * await secrets.delete(sb, s.id);
 */
async function del(target: Reach, id: string, opts?: CallOptions): Promise<void> {
  await procedure(clientOf(target), `${NS}.deleteSecret`, { id }, {}, opts);
}
export { del as delete };

/**
 * Adds a secret (sealed now, for the builder's server) to a sandbox being described: stored
 * with the sandbox and in its environment from the first start (`createSandbox`'s `secrets`).
 * @example
 * const builder = await secrets.withSecret(sandbox.new(client, 'box'), 'TOKEN', 's3cret');
 * const sb = await sandbox.create(builder);
 */
export async function withSecret(builder: SandboxBuilder, name: string, value: string, opts?: CallOptions): Promise<SandboxBuilder> {
  const { client, input } = stateOf(builder);
  const sealed: SandboxDefs.SealedSecret = { name, value: await sealFor(client, value, opts) };
  return withInput(builder, { secrets: [...(input.secrets ?? []), sealed] });
}
