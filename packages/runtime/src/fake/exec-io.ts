/**
 * What the fake provider does with a command it has started: collect its output within a cap
 * (binary-safe, `truncated` when over; a command that goes on writing far beyond the cap is
 * killed, since reading and dropping its output costs the host CPU), feed and close its stdin,
 * enforce the timeout and the abort signal by killing its process tree, hand a streamed command
 * to the caller with flow control (pause/resume), and wait for the output pipes to drain.
 *
 * The output cap, the flood rule and the deadline are shared with the other providers
 * (../shared/); the local provider adds its exec agent's failure modes on top (local/exec.ts).
 */
import type { Readable, Writable } from 'node:stream';
import type { ExecOptions, ExecProcess, ExecResult, ExecStreamHandlers } from '../provider/types';
import { BoundedBuffer, DEFAULT_MAX_OUTPUT_BYTES, FLOOD_NOTE, MAX_DROPPED_OUTPUT_BYTES } from '../shared/bounded-buffer';
import { armTimeout } from '../shared/exec-timeout';
import { drained } from '../shared/drain';


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
  return {
    stdout: stdout.toBuffer(),
    stderr: flooded ? Buffer.concat([stderr.toBuffer(), Buffer.from(`${FLOOD_NOTE}\n`)]) : stderr.toBuffer(),
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

