/**
 * Running one command inside a running sandbox: through the sandbox's exec agent when it
 * answers (agent/), else through the OCI runtime's exec (./runtime-exec.ts); either way with
 * the same output caps, deadline and kill (./exec-guard.ts, ./process-tree.ts).
 *
 * The agent lives inside the sandbox, so the sandbox's code can replace it. The host never
 * runs a command twice: it falls back to the runtime's exec only when it could not even
 * connect to the agent (nothing was sent). When the agent got the request but broke the
 * protocol or did not answer, that exec fails with a clear error and the provider stops
 * using the agent of that sandbox (`onAgentMisbehaved`) until the sandbox is restarted.
 */
import { ProviderError } from '../provider/errors';
import type { ExecProcess, ExecResult, ExecStreamHandlers } from '../provider/types';
import { AgentFailure, execViaAgent, type AgentExec } from './agent/client';
import { ExecGuard, KILL_GRACE_MS } from './exec-guard';
import type { OciProcess } from './oci-config';
import { killSandboxSession } from './process-tree';
import { KILLED_EXIT_CODE, type RunningExec } from './running-exec';
import { launchRuntimeExec } from './runtime-exec';
import { drained } from '../shared/drain';
import { BoundedBuffer, DEFAULT_MAX_OUTPUT_BYTES, FLOOD_NOTE, MAX_DROPPED_OUTPUT_BYTES } from '../shared/bounded-buffer';

export { DEFAULT_MAX_OUTPUT_BYTES, MAX_DROPPED_OUTPUT_BYTES } from '../shared/bounded-buffer';

/** How long the agent may take to confirm a start before it counts as not answering. */
export const DEFAULT_AGENT_START_TIMEOUT_MS = 30_000;
/** After the agent was asked to kill, how long before the host kills the command's session itself. */
const AGENT_KILL_CONFIRM_MS = 1000;

export interface ExecTarget {
  /** Runtime argv for a given process.json. */
  argv(processFile: string, pidFile: string): { file: string; args: string[] };
  /** Host pids currently in the sandbox's cgroup (for the straggler sweep). */
  pids(): Promise<number[]>;
  /** Dir for the short-lived process.json files. */
  execDir: string;
  /**
   * The sandbox's exec agent socket (agent/exec-agent.pl): when it answers, the command
   * is forked by the agent inside the sandbox (no runtime spawn); else the runtime's exec runs it.
   */
  agentSocket?: string;
  /** How long the agent may take to confirm a start; default DEFAULT_AGENT_START_TIMEOUT_MS. */
  agentStartTimeoutMs?: number;
  /** Called when no agent listened (so the provider can restart it). */
  onAgentMissing?(): void;
  /** Called when the agent broke the protocol or ignored a kill (so the provider stops using it). */
  onAgentMisbehaved?(reason: string): void;
}

/**
 * Starts the command; undefined when the start was given up (deadline or caller) before the
 * command was confirmed running.
 */
async function launch(target: ExecTarget, process_: OciProcess, guard: ExecGuard): Promise<RunningExec | undefined> {
  if (target.agentSocket) {
    let agent: Awaited<ReturnType<typeof execViaAgent>>;
    try {
      agent = await execViaAgent(target.agentSocket, process_, {
        signal: guard.launchSignal,
        startTimeoutMs: target.agentStartTimeoutMs ?? DEFAULT_AGENT_START_TIMEOUT_MS,
      });
    } catch (err) {
      throw agentError(target, err);
    }
    if (agent === 'aborted') return undefined;
    if (agent !== 'unreachable') return agentRun(target, agent);
    // Nothing reached the agent: running the command through the runtime cannot run it twice.
    target.onAgentMissing?.();
  }
  if (guard.stopped) return undefined;
  return launchRuntimeExec(target, process_);
}

/** An agent failure as the caller sees it; a misbehaving agent is not used again. */
function agentError(target: ExecTarget, err: unknown): unknown {
  if (!(err instanceof AgentFailure)) return err;
  if (!err.misbehaved) return err;
  target.onAgentMisbehaved?.(err.message);
  return new ProviderError(
    `${err.message}. The command may have run and was not run again; later commands in this sandbox use the runtime's exec until the sandbox is restarted`,
  );
}

function agentRun(target: ExecTarget, agent: AgentExec): RunningExec {
  agent.stdin.on('error', () => undefined);
  const exited = agent.exited.then(
    (result) => {
      if (agent.abandoned) target.onAgentMisbehaved?.('it did not report the exit of a killed command');
      return result;
    },
    async (err: unknown) => {
      // The command may still run (a lying agent): end its session from the host.
      await killSandboxSession(agent.pid, target.pids).catch(() => undefined);
      throw agentError(target, err);
    },
  );
  return {
    stdout: agent.stdout,
    stderr: agent.stderr,
    stdin: agent.stdin,
    exited,
    killTree: async () => {
      // The agent sweeps the command's session inside the sandbox. Trust, then verify: if it
      // has not reported the exit shortly, the host kills the session itself.
      agent.kill();
      const reported = await Promise.race([
        exited.then(() => true, () => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), AGENT_KILL_CONFIRM_MS).unref()),
      ]);
      if (!reported) await killSandboxSession(agent.pid, target.pids);
    },
    abandon: () => agent.abandon(),
  };
}


/**
 * crun's own message when joining the sandbox's namespaces fails before the command starts.
 * Seen right after a (re)boot under heavy load; the command never ran, so trying again is safe.
 */
const RUNTIME_STARTUP_FAILURE = /^fail startup\nsetns\(pid=\d+, CLONE_[^)]*\): Operation not permitted\n$/;
const STARTUP_RETRIES = 3;

type RunOptions = { stdin?: Uint8Array | string; maxOutputBytes?: number; timeoutMs?: number; signal?: AbortSignal };

function deadlineOf(timeoutMs: number | undefined): number | undefined {
  return timeoutMs !== undefined && timeoutMs > 0 ? Date.now() + timeoutMs : undefined;
}

export async function runExec(target: ExecTarget, process_: OciProcess, opts: RunOptions): Promise<ExecResult> {
  // One deadline for every attempt, from the moment the exec was asked for.
  const deadlineAt = deadlineOf(opts.timeoutMs);
  for (let attempt = 1; ; attempt++) {
    const result = await runExecOnce(target, process_, opts, deadlineAt);
    const neverStarted =
      result.exitCode === 1 && result.stdout.length === 0 && RUNTIME_STARTUP_FAILURE.test(result.stderr.toString());
    if (!neverStarted || attempt >= STARTUP_RETRIES || opts.signal?.aborted) return result;
    await new Promise((r) => setTimeout(r, 50 * attempt));
  }
}


async function runExecOnce(target: ExecTarget, process_: OciProcess, opts: RunOptions, deadlineAt: number | undefined): Promise<ExecResult> {
  const limit = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const stdout = new BoundedBuffer(limit);
  const stderr = new BoundedBuffer(limit);
  const guard = new ExecGuard(deadlineAt, opts.signal);
  const notes: string[] = [];
  const run = await launch(target, process_, guard);
  if (!run) {
    guard.disarm();
    notes.push('pocketenv: the command was stopped before the sandbox confirmed that it started');
    return { stdout: Buffer.alloc(0), stderr: withNotes(stderr, notes), exitCode: KILLED_EXIT_CODE, truncated: false, timedOut: guard.timedOut };
  }
  guard.attach(run);
  let flooded = false;
  const collect = (into: BoundedBuffer) => (c: Buffer) => {
    into.push(c);
    if (!flooded && stdout.dropped + stderr.dropped > MAX_DROPPED_OUTPUT_BYTES) {
      flooded = true;
      notes.push(FLOOD_NOTE);
      guard.stop();
    }
  };
  run.stdout.on('data', collect(stdout));
  run.stderr.on('data', collect(stderr));
  run.stdin.end(opts.stdin === undefined ? undefined : Buffer.from(opts.stdin));
  try {
    const { exitCode } = await run.exited;
    guard.disarm();
    await drained(run, run.exited);
    if (guard.abandoned) notes.push(`pocketenv: the command did not end within ${KILL_GRACE_MS / 1000} s of its kill; stopped waiting for it`);
    return {
      stdout: stdout.toBuffer(),
      stderr: withNotes(stderr, notes),
      exitCode,
      truncated: stdout.truncated || stderr.truncated,
      timedOut: guard.timedOut,
    };
  } finally {
    guard.disarm();
  }
}

/** The command's stderr, then the host's own notes (beyond the cap: they are short and say why it ended). */
function withNotes(stderr: BoundedBuffer, notes: string[]): Buffer {
  if (notes.length === 0) return stderr.toBuffer();
  return Buffer.concat([stderr.toBuffer(), Buffer.from(notes.map((n) => `${n}\n`).join(''))]);
}

export async function streamExec(
  target: ExecTarget,
  process_: OciProcess,
  handlers: ExecStreamHandlers,
  opts: { timeoutMs?: number; signal?: AbortSignal },
): Promise<ExecProcess> {
  const guard = new ExecGuard(deadlineOf(opts.timeoutMs), opts.signal);
  const run = await launch(target, process_, guard);
  if (!run) {
    guard.disarm();
    return stoppedBeforeStart(guard.timedOut);
  }
  guard.attach(run);
  // A kill must not wait for a slow reader: the agent (or the pipes) must be able to drain.
  guard.whenStopping(() => {
    run.stdout.resume();
    run.stderr.resume();
  });
  run.stdout.on('data', (c: Buffer) => handlers.onStdout?.(c));
  run.stderr.on('data', (c: Buffer) => handlers.onStderr?.(c));
  const done = run.exited.then(async ({ exitCode }) => {
    guard.disarm();
    await drained(run, run.exited);
    return { exitCode, timedOut: guard.timedOut };
  });
  done.catch(() => guard.disarm());
  return {
    writeStdin(data) {
      return new Promise<void>((resolve) => {
        if (run.stdin.writableEnded || run.stdin.destroyed) return resolve();
        // The callback comes once the pipe or the agent's socket took it (or with an error once gone).
        run.stdin.write(Buffer.from(data), () => resolve());
      });
    },
    closeStdin() {
      if (!run.stdin.writableEnded) run.stdin.end();
    },
    kill() {
      guard.stop();
    },
    pause() {
      if (guard.stopped) return;
      run.stdout.pause();
      run.stderr.pause();
    },
    resume() {
      run.stdout.resume();
      run.stderr.resume();
    },
    wait: () => done,
  };
}

/** A streamed exec whose start was given up: nothing runs, nothing to write to. */
function stoppedBeforeStart(timedOut: boolean): ExecProcess {
  const result = Promise.resolve({ exitCode: KILLED_EXIT_CODE, timedOut });
  const nothing = () => undefined;
  return { writeStdin: async () => undefined, closeStdin: nothing, kill: nothing, pause: nothing, resume: nothing, wait: () => result };
}
