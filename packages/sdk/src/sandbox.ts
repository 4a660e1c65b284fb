/**
 * Sandboxes, function by function as in the seed (Gleam) SDK's `pocketenv/sandbox` module:
 * build → create → start → exec → stop → delete, every call taking its client or connected
 * sandbox explicitly.
 *
 * @example
 * import { pocketenv, sandbox } from '@pocketenv/sdk';
 *
 * const client = pocketenv.newClient(process.env.POCKETENV_TOKEN);
 * const builder = sandbox.withDescription(sandbox.new(client, 'my-box', 'debian', 'local'), 'demo');
 * const sb = await sandbox.create(builder);
 * await sandbox.start(sb);
 * const result = await sandbox.exec(sb, 'echo hello');
 * console.log(result.stdout); // "hello\n"
 * await sandbox.stop(sb);
 * await sandbox.delete(sb);
 * @module
 */
import { type SandboxBuilder, SandboxBuilder as Builder, stateOf, withInput } from './builder';
import type { Client } from './client';
import { ConnectedSandbox, type WaitOptions } from './connected';
import { SandboxNotFoundError } from './errors';
import type { CallOptions } from './http';
import * as wire from './sandbox-wire';
import type { ExecOptions } from './sandbox-wire';
import type { ExecResult, Sandbox, SandboxPage } from './types';

export type { SandboxBuilder } from './builder';
export type { ExecOptions } from './sandbox-wire';
export type { StartOptions, WaitOptions } from './connected';

/**
 * Starts describing a sandbox to create. Nothing is sent until {@link create}.
 * @param name Unique name; `undefined` lets the server pick one (`adjective-noun-xxxx`).
 * @param base Base image. @default 'debian'
 * @param provider Who runs it. @default 'local'
 * @example
 * const builder = sandbox.new(client, 'my-box', 'debian', 'local');
 */
function newBuilder(client: Client, name: string | undefined, base = 'debian', provider = 'local'): SandboxBuilder {
  return Builder.of({ client, input: { name, base, provider } });
}
export { newBuilder as new };

/**
 * Sets the description.
 * @example
 * const b = sandbox.withDescription(sandbox.new(client, 'box', 'debian', 'local'), 'scratch space');
 */
export function withDescription(builder: SandboxBuilder, description: string): SandboxBuilder {
  return withInput(builder, { description });
}

/**
 * Sets a git URL cloned into the workspace when the sandbox starts.
 * @example
 * const b = sandbox.withRepo(builder, 'https://example.com/me/app.git');
 */
export function withRepo(builder: SandboxBuilder, repo: string): SandboxBuilder {
  return withInput(builder, { repo });
}

/**
 * Sets the number of virtual CPUs.
 * @example
 * const b = sandbox.withVcpus(builder, 2);
 */
export function withVcpus(builder: SandboxBuilder, vcpus: number): SandboxBuilder {
  return withInput(builder, { vcpus });
}

/**
 * Sets the memory limit, in GiB.
 * @example
 * const b = sandbox.withMemory(builder, 4);
 */
export function withMemory(builder: SandboxBuilder, memoryGiB: number): SandboxBuilder {
  return withInput(builder, { memory: memoryGiB });
}

/**
 * Sets the disk size, in GiB (at least 3).
 * @example
 * const b = sandbox.withDisk(builder, 10);
 */
export function withDisk(builder: SandboxBuilder, diskGiB: number): SandboxBuilder {
  return withInput(builder, { disk: diskGiB });
}

/**
 * Asks the server not to stop the sandbox when it is idle.
 * @example
 * const b = sandbox.withKeepAlive(builder, true);
 */
export function withKeepAlive(builder: SandboxBuilder, keepAlive = true): SandboxBuilder {
  return withInput(builder, { keepAlive });
}

/**
 * Sets how the sandbox is isolated from the host kernel (our addition): `standard`, or
 * `gvisor` for gVisor's user-space kernel as a second boundary. Absent: the server's default
 * (`describeServer().isolationLevels` lists the levels, which are allowed and which runs here).
 * @throws (at create) InvalidRequestError when the level is unknown, not allowed, or not available on the server.
 * @example
 * const b = sandbox.withIsolation(builder, 'gvisor');
 */
/** `isolation` is a string so levels a newer server adds are usable; the server validates it. */
export function withIsolation(builder: SandboxBuilder, isolation: 'standard' | 'gvisor' | (string & {})): SandboxBuilder {
  return withInput(builder, { isolation });
}

/**
 * Creates the sandbox (`io.pocketenv.sandbox.createSandbox`). The self-hosted server also starts
 * it and answers once it is `RUNNING` (check `sb.data.status`); calling {@link start} on a
 * running sandbox does nothing, so create → start works everywhere.
 * @throws InvalidRequestError for an unknown base or provider (the message lists the available ones), ConflictError when the name is taken.
 * @example
 * const sb = await sandbox.create(sandbox.new(client, 'my-box', 'debian', 'local'));
 * console.log(sb.data.id, sb.data.status);
 */
export async function create(builder: SandboxBuilder, opts?: CallOptions): Promise<ConnectedSandbox> {
  const { client, input } = stateOf(builder);
  return new ConnectedSandbox(await wire.createSandbox(client, input, opts), client);
}

/**
 * Pairs a sandbox record with a client, without any request.
 * @example
 * const data = await sandbox.get(client, 'my-box');
 * if (data) await sandbox.start(sandbox.connect(data, client));
 */
export function connect(sandbox: Sandbox, client: Client): ConnectedSandbox {
  return new ConnectedSandbox(sandbox, client);
}

/**
 * Looks a sandbox up by id or by name. `null` when there is none, or it is someone else's.
 * @example
 * const data = await sandbox.get(client, 'my-box');
 * console.log(data?.status ?? 'no such sandbox');
 */
export async function get(client: Client, idOrName: string, opts?: CallOptions): Promise<Sandbox | null> {
  try {
    return await wire.getSandbox(client, idOrName, opts);
  } catch (error) {
    // The contract answers {sandbox: null}; some servers answer 404 instead. Same meaning.
    if (error instanceof SandboxNotFoundError) return null;
    throw error;
  }
}

/**
 * One page of the caller's sandboxes, newest first, and how many they have in all.
 * @param limit 1..100 @default 30 (the server's)
 * @param offset @default 0
 * @example
 * const { sandboxes, total } = await sandbox.list(client, 10, 0);
 * console.log(`${sandboxes.length} of ${total}`);
 */
export function list(client: Client, limit?: number, offset?: number, opts?: CallOptions): Promise<SandboxPage> {
  return wire.getSandboxes(client, { limit, offset }, opts);
}

/**
 * One page of an actor's sandboxes (`io.pocketenv.actor.getActorSandboxes`). Another actor's
 * DID gives an empty page: the server only shows callers their own sandboxes.
 * @param opts.isRunning `true`: only running ones; `false`: only stopped ones.
 * @example
 * const me = await pocketenv.getProfile(client);
 * const { sandboxes } = await sandbox.getActorSandboxes(client, me.did, 100, 0, { isRunning: true });
 */
export function getActorSandboxes(
  client: Client,
  did: string,
  limit?: number,
  offset?: number,
  opts: CallOptions & { isRunning?: boolean } = {},
): Promise<SandboxPage> {
  const { isRunning, ...call } = opts;
  return wire.getActorSandboxes(client, did, { limit, offset, isRunning }, call);
}

/**
 * Starts a sandbox and resolves once it is running.
 * @param repo A git URL to clone into the workspace on this start.
 * @param keepAlive Keep it running when idle.
 * @throws SandboxNotFoundError, ProviderError (the message says why it could not start).
 * @example
 * await sandbox.start(sb);
 * await sandbox.start(sb, 'https://example.com/me/app.git', true);
 */
export function start(sb: ConnectedSandbox, repo?: string, keepAlive?: boolean, opts?: CallOptions): Promise<void> {
  return wire.startSandbox(sb.client, sb.data.id, { repo, keepAlive }, opts);
}

/**
 * Stops a sandbox: its processes end, its filesystem is kept.
 * @example
 * await sandbox.stop(sb);
 */
export function stop(sb: ConnectedSandbox, opts?: CallOptions): Promise<void> {
  return wire.stopSandbox(sb.client, sb.data.id, opts);
}

/**
 * Deletes a sandbox and what is attached to it; named volumes are kept.
 * Exported as `delete` (`sandbox.delete(sb)`).
 * @example
 * await sandbox.delete(sb);
 */
function del(sb: ConnectedSandbox, opts?: CallOptions): Promise<void> {
  return wire.deleteSandbox(sb.client, sb.data.id, opts);
}
export { del as delete };

/**
 * Runs `command` with `sh -c` in the sandbox's workspace and returns its output once it ends.
 * The sandbox must be running (else `InvalidRequestError`). A non-zero exit code is a result.
 * @example
 * const { stdout, stderr, exitCode } = await sandbox.exec(sb, 'echo hello');
 * // stdout === 'hello\n', exitCode === 0
 */
export function exec(sb: ConnectedSandbox, command: string, opts?: ExecOptions): Promise<ExecResult> {
  return wire.execCommand(sb.client, sb.data.id, command, opts);
}

// Streaming form of exec (output as produced, stdin streamed in): see ./exec-stream.ts.
export { execStream } from './exec-stream';
export type { ExecStreamOptions, ExecStreamResult } from './exec-stream';

/**
 * Returns the URL of a browser VS Code (code-server) for the sandbox. A server that does not
 * offer it (yet) answers 501, thrown as `NotImplementedError`.
 * @example
 * const url = await sandbox.exposeVscode(sb);
 */
export function exposeVscode(sb: ConnectedSandbox, opts?: CallOptions): Promise<string> {
  return wire.exposeVscode(sb.client, sb.data.id, opts);
}

/**
 * Polls until the sandbox is `RUNNING`; see {@link ConnectedSandbox.waitUntilRunning}.
 * @example
 * await sandbox.waitUntilRunning(sb, { timeoutMs: 60_000 });
 */
export async function waitUntilRunning(sb: ConnectedSandbox, opts?: WaitOptions): Promise<ConnectedSandbox> {
  return sb.waitUntilRunning(opts);
}
