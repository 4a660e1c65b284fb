/**
 * Environment variables of a sandbox, as the seed SDK's `pocketenv/env`: plaintext name/value
 * pairs in the environment of every exec, terminal and service. A change is seen by the next
 * command, without a restart. Names are unique per sandbox: `put` on an existing name updates it.
 * Calls by id (`get`, `update`, `delete`) take the connected sandbox or just a client.
 *
 * @example
 * import { env } from '@pocketenv/sdk';
 * await env.put(sb, 'NODE_ENV', 'production');
 * console.log((await sb.exec('echo $NODE_ENV')).stdout); // "production\n"
 * const { variables, total } = await env.list(sb);
 * @module
 */
import type { SandboxDefs, VariableDefs } from '@pocketenv/lexicons';
import { type Reach, clientOf, decodeList, decodeWrapped, dropUndefined, sandboxIdOf } from './attachment-wire';
import { type SandboxBuilder, stateOf, withInput } from './builder';
import type { ConnectedSandbox } from './connected';
import { type CallOptions, procedure, query } from './http';

/** A variable as the server returns it (`id`, `name`, `value`, `createdAt`, `updatedAt`, `sandboxId`). */
export type Variable = VariableDefs.VariableView;

/** One page of variables and how many there are in all. */
export interface VariablePage {
  variables: Variable[];
  total: number;
}

const NS = 'io.pocketenv.variable';
const FIELDS = ['id', 'name', 'value', 'createdAt'] as const;

/**
 * Sets a variable: adds it, or changes the value of the one with that name.
 * @throws InvalidRequestError for a name a shell cannot hold (`^[A-Za-z_][A-Za-z0-9_]*$`).
 * @example
 * const v = await env.put(sb, 'GREETING', 'hello');
 */
export async function put(sb: ConnectedSandbox, name: string, value: string, opts?: CallOptions): Promise<Variable> {
  const body = await procedure(sb.client, `${NS}.addVariable`, {}, { variable: { sandboxId: sb.id, name, value } }, opts);
  return decodeWrapped<Variable>(body, 'addVariable', 'variable', FIELDS);
}

/**
 * One page of the sandbox's variables, newest first.
 * @param limit at least 1; above 100 is served as 100. @default 20 (the server's)
 * @example
 * const { variables, total } = await env.list(sb, 100, 0);
 */
export async function list(sb: ConnectedSandbox, limit?: number, offset?: number, opts?: CallOptions): Promise<VariablePage> {
  const body = await query(sb.client, `${NS}.getVariables`, { sandboxId: sb.id, limit, offset }, opts);
  const { items, total } = decodeList<Variable>(body, 'getVariables', 'variables', FIELDS);
  return { variables: items, total };
}

/**
 * One variable by id. @throws NotFoundError when it is not one of the caller's.
 * @example
 * const v = await env.get(sb, 'var_…');
 */
export async function get(target: Reach, id: string, opts?: CallOptions): Promise<Variable> {
  return decodeWrapped<Variable>(await query(clientOf(target), `${NS}.getVariable`, { id }, opts), 'getVariable', 'variable', FIELDS);
}

/**
 * Renames a variable and/or changes its value (absent fields are kept).
 * @throws ConflictError when the sandbox already has a variable with the new name.
 * @example
 * await env.update(sb, v.id, { value: 'bonjour' });
 */
export async function update(target: Reach, id: string, change: { name?: string; value?: string }, opts?: CallOptions): Promise<void> {
  await procedure(clientOf(target), `${NS}.updateVariable`, {}, { id, variable: dropUndefined({ sandboxId: sandboxIdOf(target), ...change }) }, opts);
}

/**
 * Removes a variable; the next command no longer has it. Exported as `delete`.
 * @example
 * await env.delete(sb, v.id);
 */
async function del(target: Reach, id: string, opts?: CallOptions): Promise<void> {
  await procedure(clientOf(target), `${NS}.deleteVariable`, { id }, {}, opts);
}
export { del as delete };

/**
 * Adds a variable to a sandbox being described: it is stored with the sandbox and set from its
 * first start (`createSandbox`'s `envs`). A name given twice keeps the last value.
 * @example
 * const sb = await sandbox.create(env.withEnv(sandbox.new(client, 'box'), 'MODE', 'dev'));
 */
export function withEnv(builder: SandboxBuilder, name: string, value: string): SandboxBuilder {
  const envs: SandboxDefs.EnvVar[] = [...(stateOf(builder).input.envs ?? []), { name, value }];
  return withInput(builder, { envs });
}
