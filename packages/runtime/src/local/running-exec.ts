/**
 * One command started in a sandbox, whichever way it was started (the exec agent or the OCI
 * runtime's exec): its pipes, its exit, and the two ways to end it.
 */
import type { Readable, Writable } from 'node:stream';

export interface RunningExec {
  stdout: Readable;
  stderr: Readable;
  stdin: Writable;
  exited: Promise<{ exitCode: number }>;
  /** Kills the command's process tree, as far as the host can reach it. */
  killTree(): Promise<void>;
  /** Stops waiting for a command that did not end after its kill: pipes closed, a pending exit becomes 137. */
  abandon(): void;
}

/** The exit code reported for a command the host stopped waiting for (as SIGKILL would give). */
export const KILLED_EXIT_CODE = 137;
