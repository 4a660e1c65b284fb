/**
 * What the fake provider does with a command it has started: collect its output within a cap
 * (binary-safe, `truncated` when over; a command that goes on writing far beyond the cap is
 * killed, since reading and dropping its output costs the host CPU), feed and close its stdin,
 * enforce the timeout and the abort signal by killing its process tree, hand a streamed command
 * to the caller with flow control (pause/resume), and wait for the output pipes to drain.
 *
 * NOTE: the local provider has its own version of this in local/exec.ts (with its exec agent's
 * failure modes on top); the rules for the caller are the same.
 */
import type { Readable, Writable } from 'node:stream';
import type { ExecOptions, ExecProcess, ExecResult, ExecStreamHandlers } from '../provider/types';

/** Per-stream cap on captured output when the caller sets none (the contract's default). */
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
/** Output a buffered exec may produce beyond its cap before it is killed. */
export const MAX_DROPPED_OUTPUT_BYTES = 64 * 1024 * 1024;
/** After the command exits, how long background processes may keep its output pipes open. */
const DRAIN_GRACE_MS = 300;

/** A started command, as the provider hands it over. */
export interface RunningExec {
  stdout: Readable;
  stderr: Readable;
  stdin: Writable;
  /** Resolves with the exit code (128+signal when killed) once the command's main process ended. */
  exited: Promise<{ exitCode: number }>;
  /** Kills the command's whole process tree; resolves once it is gone. */
  killTree(): Promise<void>;
}

/** Runs `run` to completion: stdin written and closed, output collected within the cap. */
export async function collectExec(run: RunningExec, opts: Pick<ExecOptions, 'stdin' | 'maxOutputBytes' | 'timeoutMs' | 'signal'>): Promise<ExecResult> {
  const limit = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const stdout = new BoundedBuffer(limit);
  const stderr = new BoundedBuffer(limit);
  let timedOut = false;
  let flooded = false;
  const disarm = armTimeout(opts.timeoutMs, opts.signal, run, () => (timedOut = true));
  const collect = (into: BoundedBuffer) => (c: Buffer) => {
    into.push(c);
    if (!flooded && stdout.dropped + stderr.dropped > MAX_DROPPED_OUTPUT_BYTES) {
      flooded = true;
      void run.killTree();
    }
  };
  run.stdout.on('data', collect(stdout));
  run.stderr.on('data', collect(stderr));
  run.stdin.end(opts.stdin === undefined ? undefined : Buffer.from(opts.stdin));
  const { exitCode } = await run.exited;
  // Once the command has exited, what it left running in the background is not ours to kill.
  disarm();
  await drained(run, run.exited);
  if (flooded) stderr.note(`pocketenv: the command was killed: it wrote more than ${MAX_DROPPED_OUTPUT_BYTES / (1024 * 1024)} MiB beyond the output cap`);
  return {
    stdout: stdout.toBuffer(),
    stderr: stderr.toBuffer(),
    exitCode,
    truncated: stdout.truncated || stderr.truncated,
    timedOut,
  };
}

/**
 * Hands `run` to the caller as a streamed command: output through `handlers` (paused while the
 * caller cannot keep up: the command then blocks on its full pipes), stdin on demand (each write
 * resolves once the pipe took it).
 */
export function streamRunning(run: RunningExec, handlers: ExecStreamHandlers, opts: Pick<ExecOptions, 'timeoutMs' | 'signal'>): ExecProcess {
  let timedOut = false;
  const killTree = () => {
    // A kill must not wait for a paused reader: let the pipes drain.
    run.stdout.resume();
    run.stderr.resume();
    return run.killTree();
  };
  const disarm = armTimeout(opts.timeoutMs, opts.signal, { ...run, killTree }, () => (timedOut = true));
  run.stdout.on('data', (c: Buffer) => handlers.onStdout?.(c));
  run.stderr.on('data', (c: Buffer) => handlers.onStderr?.(c));
  const done = run.exited.then(async ({ exitCode }) => {
    disarm();
    await drained(run, run.exited);
    return { exitCode, timedOut };
  });
  const proc = {
    writeStdin(data: Uint8Array | string): Promise<void> {
      return new Promise<void>((resolve) => {
        if (run.stdin.writableEnded || run.stdin.destroyed) return resolve();
        run.stdin.write(Buffer.from(data), () => resolve());
      });
    },
    closeStdin() {
      if (!run.stdin.writableEnded) run.stdin.end();
    },
    kill() {
      void killTree();
    },
    pause() {
      run.stdout.pause();
      run.stderr.pause();
    },
    resume() {
      run.stdout.resume();
      run.stderr.resume();
    },
    wait: () => done,
  };
  return proc;
}

/** Resolves once both output streams ended, or DRAIN_GRACE_MS after `exited`. */
function drained(child: { stdout: Readable; stderr: Readable }, exited: Promise<unknown>): Promise<void> {
  const ends = [child.stdout, child.stderr].map(
    (s) => new Promise<void>((resolve) => (s.readableEnded || s.destroyed ? resolve() : s.once('close', () => resolve()))),
  );
  return new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      resolve();
    };
    void Promise.all(ends).then(finish);
    void exited.then(() => {
      if (done) return;
      timer = setTimeout(() => {
        // A background process inherited the pipes; stop waiting for it.
        child.stdout.destroy();
        child.stderr.destroy();
        finish();
      }, DRAIN_GRACE_MS);
    });
  });
}

function armTimeout(timeoutMs: number | undefined, signal: AbortSignal | undefined, run: Pick<RunningExec, 'killTree'>, onTimeout: () => void) {
  let timer: NodeJS.Timeout | undefined;
  if (timeoutMs !== undefined && timeoutMs > 0) {
    timer = setTimeout(() => {
      onTimeout();
      void run.killTree();
    }, timeoutMs);
  }
  const onAbort = () => void run.killTree();
  if (signal) {
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  }
  return () => {
    if (timer) clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  };
}

/** Collects up to `limit` bytes of a stream; counts but drops the rest. */
class BoundedBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  truncated = false;
  dropped = 0;
  constructor(private readonly limit: number) {}
  push(chunk: Buffer) {
    const room = this.limit - this.size;
    if (chunk.length > room) {
      this.truncated = true;
      this.dropped += chunk.length - Math.max(room, 0);
      if (room > 0) {
        this.chunks.push(chunk.subarray(0, room));
        this.size += room;
      }
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
  }
  /** A line of the host's own, after the command's output (beyond the cap: it is short and says why the command ended). */
  note(line: string) {
    this.chunks.push(Buffer.from(`${line}\n`));
  }
  toBuffer() {
    return Buffer.concat(this.chunks);
  }
}
