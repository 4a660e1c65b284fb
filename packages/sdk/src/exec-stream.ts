/**
 * Streaming exec: runs a command in a running sandbox over the server's `/exec/<id>/ws`
 * WebSocket, handing its output to callbacks as it is produced and streaming stdin in.
 * Use it for long commands; `sandbox.exec` (one request, buffered output) stays for short ones.
 *
 * @example
 * const { exitCode } = await sandbox.execStream(sb, 'npm install', {
 *   onStdout: (chunk) => process.stdout.write(chunk),
 *   onStderr: (chunk) => process.stderr.write(chunk),
 * });
 */
import type WebSocket from 'ws';
import type { ConnectedSandbox } from './connected';
import { AbortedError, HttpError } from './errors';
import { loadWebSocket, refusalError, trackConnectionFailure, untilOpen, webSocketUrl } from './ws';

export interface ExecStreamOptions {
  onStdout?(chunk: Buffer): void;
  onStderr?(chunk: Buffer): void;
  /** Bytes for the command's stdin: all at once, or as they come (async iterable, e.g. process.stdin). Its end closes stdin. Without it stdin is closed at once. */
  stdin?: string | Uint8Array | AsyncIterable<Uint8Array | string>;
  /** Working directory inside the sandbox. @default the workspace */
  cwd?: string;
  /** Extra variables for this command only. */
  env?: Record<string, string>;
  /** Kill the command after this long (then `timedOut` is true). @default the server's */
  timeoutMs?: number;
  /** Aborting kills the command; the promise then rejects with AbortedError. */
  signal?: AbortSignal;
  /** Give up connecting (the WebSocket handshake) after this long. @default 30000 */
  requestTimeoutMs?: number;
}

export interface ExecStreamResult {
  /** The command's exit status; 128+N when killed by signal N. */
  exitCode: number;
  timedOut: boolean;
}

const STDOUT = 1;
const STDERR = 2;

export function execStreamUrl(baseUrl: string, sandboxId: string): URL {
  return webSocketUrl(baseUrl, `/exec/${encodeURIComponent(sandboxId)}/ws`);
}

/**
 * Runs `command` with `sh -c` and resolves with its exit code once it ended and all its output
 * was delivered. A non-zero exit code is a result, not an error.
 * @throws InvalidRequestError (not running, bad options), SandboxNotFoundError, AuthenticationError,
 *   RateLimitError (too many of your commands running at once), ProviderError, HttpError.
 */
export async function execStream(sb: ConnectedSandbox, command: string, opts: ExecStreamOptions = {}): Promise<ExecStreamResult> {
  const url = execStreamUrl(sb.client.baseUrl, sb.data.id);
  const where = `${url.origin}${url.pathname}`;
  if (opts.signal?.aborted) throw new AbortedError(`exec in ${sb.data.name} was aborted`);
  const headers: Record<string, string> = { 'user-agent': 'pocketenv-sdk-ts/0.1.0' };
  if (sb.client.token) headers.authorization = `Bearer ${sb.client.token}`;
  const ws = new (await loadWebSocket())(url, { headers, handshakeTimeout: opts.requestTimeoutMs ?? 30_000 });
  let result: ExecStreamResult | undefined;
  let aborted = false;

  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) {
      if (data[0] === STDOUT) opts.onStdout?.(data.subarray(1));
      else if (data[0] === STDERR) opts.onStderr?.(data.subarray(1));
      return;
    }
    try {
      const msg = JSON.parse(data.toString('utf8')) as { type?: string; exitCode?: number; timedOut?: boolean };
      if (msg.type === 'exit' && typeof msg.exitCode === 'number') result = { exitCode: msg.exitCode, timedOut: msg.timedOut === true };
    } catch {
      /* not ours */
    }
  });
  const closed = new Promise<ExecStreamResult>((resolve, reject) => {
    const failure = trackConnectionFailure(ws, 'exec', where);
    ws.once('close', (code, reasonBuf) => {
      if (aborted) return reject(new AbortedError(`exec in ${sb.data.name} was aborted`));
      if (result) return resolve(result);
      const refusal = refusalError(code, reasonBuf.toString('utf8'), 'exec');
      reject(refusal ?? failure() ?? new HttpError(`exec connection to ${where} closed (code ${code}) before the command ended`));
    });
  });
  closed.catch(() => undefined);

  const onAbort = () => {
    aborted = true;
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'kill' }));
    ws.close(1000, 'aborted');
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await untilOpen(ws, closed, 'exec', where);
    ws.send(JSON.stringify({ type: 'start', command, cwd: opts.cwd, env: opts.env, timeoutMs: opts.timeoutMs }));
    void pumpStdin(ws, opts.stdin);
    return await closed;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

async function pumpStdin(ws: WebSocket, stdin: ExecStreamOptions['stdin']): Promise<void> {
  const send = (chunk: Uint8Array | string) =>
    new Promise<void>((resolve) => {
      if (ws.readyState !== ws.OPEN) return resolve();
      ws.send(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk, { binary: true }, () => resolve());
    });
  try {
    if (typeof stdin === 'string' || stdin instanceof Uint8Array) await send(stdin);
    else if (stdin) for await (const chunk of stdin) await send(chunk);
  } catch {
    /* the source failed: close stdin so the command is not left waiting */
  }
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'eof' }));
}
