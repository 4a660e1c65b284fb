/**
 * What every provider does with a command it has started, however it started it: collect
 * its output within a cap (binary-safe, `truncated` when over), feed and close its stdin,
 * enforce the timeout and the abort signal by killing its process tree, and wait for the
 * output pipes to drain. A provider supplies a {@link RunningExec}; this module does the rest.
 */
import type { Readable, Writable } from 'node:stream';
import type { ExecOptions, ExecProcess, ExecResult, ExecStreamHandlers } from '../provider/types';

/** Per-stream cap on captured output when the caller sets none (the contract's default). */
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;

/** After the command exits, how long background processes may keep its output pipes open. */
const DRAIN_GRACE_MS = 300;

/** A started command, as a provider hands it over. */
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
  const disarm = armTimeout(opts.timeoutMs, opts.signal, run, () => (timedOut = true));
  run.stdout.on('data', (c: Buffer) => stdout.push(c));
  run.stderr.on('data', (c: Buffer) => stderr.push(c));
  run.stdin.end(opts.stdin === undefined ? undefined : Buffer.from(opts.stdin));
  const { exitCode } = await run.exited;
  // Once the command has exited, what it left running in the background is not ours to kill.
  disarm();
  await drained(run, run.exited);
  return {
    stdout: stdout.toBuffer(),
    stderr: stderr.toBuffer(),
    exitCode,
    truncated: stdout.truncated || stderr.truncated,
    timedOut,
  };
}

/** Hands `run` to the caller as a streamed command: output through `handlers`, stdin on demand. */
export function streamRunning(run: RunningExec, handlers: ExecStreamHandlers, opts: Pick<ExecOptions, 'timeoutMs' | 'signal'>): ExecProcess {
  let timedOut = false;
  const disarm = armTimeout(opts.timeoutMs, opts.signal, run, () => (timedOut = true));
  run.stdout.on('data', (c: Buffer) => handlers.onStdout?.(c));
  run.stderr.on('data', (c: Buffer) => handlers.onStderr?.(c));
  const done = run.exited.then(async ({ exitCode }) => {
    disarm();
    await drained(run, run.exited);
    return { exitCode, timedOut };
  });
  return {
    writeStdin(data) {
      if (!run.stdin.writableEnded) run.stdin.write(Buffer.from(data));
    },
    closeStdin() {
      if (!run.stdin.writableEnded) run.stdin.end();
    },
    kill() {
      void run.killTree();
    },
    wait: () => done,
  };
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

function armTimeout(timeoutMs: number | undefined, signal: AbortSignal | undefined, run: RunningExec, onTimeout: () => void) {
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
  constructor(private readonly limit: number) {}
  push(chunk: Buffer) {
    const room = this.limit - this.size;
    if (chunk.length > room) {
      this.truncated = true;
      if (room > 0) {
        this.chunks.push(chunk.subarray(0, room));
        this.size += room;
      }
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
  }
  toBuffer() {
    return Buffer.concat(this.chunks, this.size);
  }
}
