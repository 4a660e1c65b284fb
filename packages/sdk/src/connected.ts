import type { Client } from './client';
import { AbortedError, SandboxNotFoundError, SandboxStateError, TimeoutError } from './errors';
import type { CallOptions } from './http';
import * as wire from './sandbox-wire';
import type { ExecOptions } from './sandbox-wire';
import type { ExecResult, Sandbox } from './types';

/** Options of {@link ConnectedSandbox.start}. */
export interface StartOptions extends CallOptions {
  /** A git URL cloned into the workspace on this start. */
  repo?: string;
  /** Keep the sandbox running instead of letting the server stop it when idle. */
  keepAlive?: boolean;
}

/** Options of {@link ConnectedSandbox.waitUntilRunning}. */
export interface WaitOptions {
  /** Give up after this long. @default 120000 */
  timeoutMs?: number;
  /** Time between two looks. @default 1000 */
  intervalMs?: number;
  signal?: AbortSignal;
  /** HTTP time limit of each look. */
  requestTimeoutMs?: number;
}

/**
 * A sandbox record together with the client that reaches it: what every per-sandbox function
 * takes (`sandbox.start(sb)`, and later `env.put(sb, …)`, `files.write(sb, …)`…).
 *
 * `data` is a snapshot from the last call that returned it; `refresh()` reads it again.
 * The methods are sugar over the `sandbox` module's functions and behave exactly like them.
 *
 * @example
 * const sb = await sandbox.create(sandbox.new(client, 'demo', 'debian', 'local'));
 * await sb.start();
 * console.log((await sb.exec('uname -a')).stdout);
 * await sb.delete();
 */
export class ConnectedSandbox {
  constructor(
    /** The sandbox as last read from the server. */
    public data: Sandbox,
    /** The client every call on this sandbox goes through. */
    readonly client: Client,
  ) {}

  /** The sandbox's id (`sbx_…`). */
  get id(): string {
    return this.data.id;
  }

  /** The sandbox's unique name. */
  get name(): string {
    return this.data.name;
  }

  /**
   * Starts the sandbox; resolves once it is running. `data` is not refreshed.
   * @example
   * await sb.start({ repo: 'https://example.com/me/app.git', keepAlive: true });
   */
  start(opts: StartOptions = {}): Promise<void> {
    const { repo, keepAlive, ...call } = opts;
    return wire.startSandbox(this.client, this.id, { repo, keepAlive }, call);
  }

  /**
   * Stops the sandbox; its filesystem is kept.
   * @example
   * await sb.stop();
   */
  stop(opts?: CallOptions): Promise<void> {
    return wire.stopSandbox(this.client, this.id, opts);
  }

  /**
   * Deletes the sandbox and everything attached to it (named volumes are kept).
   * @example
   * await sb.delete();
   */
  delete(opts?: CallOptions): Promise<void> {
    return wire.deleteSandbox(this.client, this.id, opts);
  }

  /**
   * Runs `command` with `sh -c` in the workspace and returns its output once it has finished.
   * A non-zero exit code is a result, not an error.
   * @example
   * const { stdout, exitCode } = await sb.exec('ls /workspace', { cwd: '/', timeoutMs: 30_000 });
   */
  exec(command: string, opts?: ExecOptions): Promise<ExecResult> {
    return wire.execCommand(this.client, this.id, command, opts);
  }

  /**
   * Returns the URL of a browser VS Code for this sandbox. Throws `NotImplementedError` on a
   * server that does not provide one yet.
   * @example
   * console.log(await sb.exposeVscode());
   */
  exposeVscode(opts?: CallOptions): Promise<string> {
    return wire.exposeVscode(this.client, this.id, opts);
  }

  /**
   * Reads the sandbox again and replaces `data`. Throws `SandboxNotFoundError` when it is gone.
   * @example
   * console.log((await sb.refresh()).data.status);
   */
  async refresh(opts?: CallOptions): Promise<this> {
    const fresh = await wire.getSandbox(this.client, this.id, opts);
    if (fresh === null) throw gone(this.id);
    this.data = fresh;
    return this;
  }

  /**
   * Polls until the sandbox reports `RUNNING` (useful after a start made elsewhere).
   * Throws `SandboxStateError` if it reaches `ERROR`, `TimeoutError` after `timeoutMs`.
   * @example
   * await sb.waitUntilRunning({ timeoutMs: 60_000 });
   */
  async waitUntilRunning(opts: WaitOptions = {}): Promise<this> {
    const { timeoutMs = 120_000, intervalMs = 1_000, signal, requestTimeoutMs } = opts;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.refresh({ signal, requestTimeoutMs });
      const status = this.data.status;
      if (status === 'RUNNING') return this;
      if (status === 'ERROR') {
        throw new SandboxStateError(status, `sandbox ${this.name} failed${this.data.error ? `: ${this.data.error}` : ''}`);
      }
      if (Date.now() + intervalMs > deadline) {
        throw new TimeoutError(`sandbox ${this.name} is still ${status ?? 'not running'} after ${timeoutMs} ms`);
      }
      await sleep(intervalMs, signal);
    }
  }
}

function gone(id: string): SandboxNotFoundError {
  return new SandboxNotFoundError(404, 'SandboxNotFound', `sandbox ${id} no longer exists`);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError('aborted'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
