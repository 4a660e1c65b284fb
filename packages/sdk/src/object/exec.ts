/**
 * `sb.exec` with streaming: when given `onStdout`, `onStderr` or `stdin`, the command runs over
 * the streaming exec WebSocket (`execStream`); output reaches the callbacks as it is produced,
 * decoded as UTF-8, and is also collected into the usual `ExecResult` (each stream capped like
 * the buffered exec's, then `truncated: true`).
 * @module
 */
import type { ConnectedSandbox } from '../connected';
import { AbortedError } from '../errors';
import { type ExecStreamOptions, execStream } from '../exec-stream';
import type { ExecOptions } from '../sandbox-wire';
import type { ExecResult } from '../types';

export interface SandboxExecOptions extends ExecOptions {
  /** Called with each piece of stdout as it arrives. Makes the call stream. */
  onStdout?: (data: string) => void;
  /** Called with each piece of stderr as it arrives. Makes the call stream. */
  onStderr?: (data: string) => void;
  /**
   * The command's stdin: all at once, or as it comes (e.g. `process.stdin`); its end closes it.
   * Makes the call stream. Without it, stdin is empty.
   */
  stdin?: ExecStreamOptions['stdin'];
}

/** Characters kept per stream in the result, as the buffered exec's 1 MiB cap. */
const COLLECT_LIMIT = 1024 * 1024;

export function wantsStream(opts: SandboxExecOptions): boolean {
  return opts.onStdout !== undefined || opts.onStderr !== undefined || opts.stdin !== undefined;
}

export async function execStreaming(sb: ConnectedSandbox, command: string, opts: SandboxExecOptions): Promise<ExecResult> {
  // A callback that throws ends the command, and the call rejects with what it threw.
  let callbackError: unknown;
  const stop = new AbortController();
  const fail = (error: unknown) => {
    callbackError ??= error;
    stop.abort();
  };
  const stdout = new Collector(opts.onStdout, fail);
  const stderr = new Collector(opts.onStderr, fail);
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  let result;
  try {
    result = await execStream(sb, command, {
      onStdout: (chunk) => stdout.push(chunk),
      onStderr: (chunk) => stderr.push(chunk),
      stdin: opts.stdin,
      cwd: opts.cwd,
      env: opts.env,
      timeoutMs: opts.timeoutMs,
      requestTimeoutMs: opts.requestTimeoutMs,
      signal,
    });
  } catch (error) {
    if (callbackError !== undefined && error instanceof AbortedError) throw callbackError;
    throw error;
  }
  stdout.end();
  stderr.end();
  if (callbackError !== undefined) throw callbackError;
  return {
    stdout: stdout.text,
    stderr: stderr.text,
    exitCode: result.exitCode,
    ...(stdout.truncated || stderr.truncated ? { truncated: true } : {}),
    ...(result.timedOut ? { timedOut: true } : {}),
  };
}

/** Decodes one stream (a character split across chunks stays whole), hands it on, keeps a capped copy. */
class Collector {
  text = '';
  truncated = false;
  readonly #decoder = new TextDecoder();

  constructor(
    private readonly callback: ((data: string) => void) | undefined,
    private readonly fail: (error: unknown) => void,
  ) {}

  push(chunk: Uint8Array): void {
    this.#take(this.#decoder.decode(chunk, { stream: true }));
  }

  end(): void {
    this.#take(this.#decoder.decode());
  }

  #take(data: string): void {
    if (data === '') return;
    const room = COLLECT_LIMIT - this.text.length;
    if (data.length > room) this.truncated = true;
    if (room > 0) this.text += data.slice(0, room);
    try {
      this.callback?.(data);
    } catch (error) {
      this.fail(error);
    }
  }
}
