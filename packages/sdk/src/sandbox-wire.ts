/**
 * The `io.pocketenv.sandbox.*` and `io.pocketenv.actor.getActorSandboxes` calls, addressed by
 * sandbox id. Internal: `sandbox.ts` (the seed-shaped functions) and `ConnectedSandbox`
 * (the methods) are both thin layers over these, so neither imports the other's code.
 * @module
 */
import type { SandboxCreateSandbox, SandboxExec, SandboxStartSandbox } from '@pocketenv/lexicons';
import type { Client } from './client';
import {
  decodeExecResult,
  decodePreviewUrl,
  decodeSandbox,
  decodeSandboxOrNull,
  decodeSandboxPage,
} from './decode';
import { type CallOptions, procedure, query } from './http';
import type { ExecResult, Sandbox, SandboxPage } from './types';

const NS = 'io.pocketenv.sandbox';

/** Body of `createSandbox` (the lexicon's input). Only `base` is required. */
export type CreateSandboxInput = SandboxCreateSandbox.InputSchema;

/** Options of `exec`, beyond the command itself. */
export interface ExecOptions extends CallOptions {
  /** Working directory inside the sandbox. @default `/workspace` */
  cwd?: string;
  /** Extra environment variables for this command. */
  env?: Record<string, string>;
  /**
   * The server kills the command after this many milliseconds (the result then has
   * `timedOut: true`); the HTTP call itself is given a little longer so the result still arrives
   * (unless `requestTimeoutMs` says otherwise).
   */
  timeoutMs?: number;
}

/** Extra wait on top of an exec's own timeout, for the answer to travel back. */
const EXEC_ANSWER_GRACE_MS = 15_000;

export async function createSandbox(client: Client, input: CreateSandboxInput, opts?: CallOptions): Promise<Sandbox> {
  return decodeSandbox(await procedure(client, `${NS}.createSandbox`, {}, dropUndefined(input), opts), 'createSandbox');
}

export async function getSandbox(client: Client, id: string, opts?: CallOptions): Promise<Sandbox | null> {
  return decodeSandboxOrNull(await query(client, `${NS}.getSandbox`, { id }, opts));
}

export async function getSandboxes(
  client: Client,
  page: { limit?: number; offset?: number },
  opts?: CallOptions,
): Promise<SandboxPage> {
  return decodeSandboxPage(await query(client, `${NS}.getSandboxes`, page, opts), 'getSandboxes');
}

export async function getActorSandboxes(
  client: Client,
  did: string,
  page: { limit?: number; offset?: number; isRunning?: boolean },
  opts?: CallOptions,
): Promise<SandboxPage> {
  const body = await query(client, 'io.pocketenv.actor.getActorSandboxes', { did, ...page }, opts);
  return decodeSandboxPage(body, 'getActorSandboxes');
}

export async function startSandbox(
  client: Client,
  id: string,
  input: SandboxStartSandbox.InputSchema,
  opts?: CallOptions,
): Promise<void> {
  await procedure(client, `${NS}.startSandbox`, { id }, dropUndefined(input), opts);
}

export async function stopSandbox(client: Client, id: string, opts?: CallOptions): Promise<void> {
  await procedure(client, `${NS}.stopSandbox`, { id }, {}, opts);
}

export async function deleteSandbox(client: Client, id: string, opts?: CallOptions): Promise<void> {
  await procedure(client, `${NS}.deleteSandbox`, { id }, {}, opts);
}

export async function execCommand(client: Client, id: string, command: string, opts: ExecOptions = {}): Promise<ExecResult> {
  const { cwd, env, timeoutMs, signal } = opts;
  const body: SandboxExec.InputSchema = dropUndefined({
    command,
    cwd,
    env: env && Object.entries(env).map(([name, value]) => ({ name, value })),
    timeoutMs,
  }) as SandboxExec.InputSchema;
  const call: CallOptions = { signal, requestTimeoutMs: opts.requestTimeoutMs ?? (timeoutMs === undefined ? undefined : timeoutMs + EXEC_ANSWER_GRACE_MS) };
  return decodeExecResult(await procedure(client, `${NS}.exec`, { id }, body, call));
}

export async function exposeVscode(client: Client, id: string, opts?: CallOptions): Promise<string> {
  return decodePreviewUrl(await procedure(client, `${NS}.exposeVscode`, { id }, {}, opts), 'exposeVscode');
}

/** Leaves optional fields out of the JSON instead of sending `null`s the lexicon would reject. */
function dropUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
