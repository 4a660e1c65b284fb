/**
 * Records the SDK returns, in wire (camelCase) form. They are the lexicon types from
 * `@pocketenv/lexicons`, re-exported under the names the SDK uses.
 * @module
 */
import type { ActorDefs, SandboxDefs, SandboxExec, ServerDescribeServer } from '@pocketenv/lexicons';

/** A sandbox as the server describes it (`io.pocketenv.sandbox.defs#sandboxView`). */
export type Sandbox = SandboxDefs.SandboxView;

/** Lifecycle states a sandbox reports. Clients wait for `RUNNING`; `ERROR` carries `error`. */
export type SandboxStatus = 'INITIALIZING' | 'RUNNING' | 'STOPPED' | 'ERROR';

/** One page of sandboxes and how many there are in all. */
export interface SandboxPage {
  sandboxes: Sandbox[];
  total: number;
}

/**
 * What a finished command produced: `stdout`, `stderr`, `exitCode` (128+N when killed by
 * signal N), and, from servers that report them, `truncated` (output hit the server's cap) and
 * `timedOut` (killed after its `timeoutMs`).
 */
export type ExecResult = SandboxExec.OutputSchema;

/** An actor (account) as `io.pocketenv.actor.getProfile` describes it. */
export type Profile = ActorDefs.ProfileView;

/** What `io.pocketenv.server.describeServer` says about a server. */
export type ServerDescription = ServerDescribeServer.OutputSchema;
