/**
 * Interactive terminals: a shell in a running sandbox over a WebSocket (`/pty/<id>/ws`).
 *
 * @example
 * import { terminal } from '@pocketenv/sdk';
 * const term = await terminal.open(sb, { cols: 120, rows: 40 });
 * term.onData((bytes) => process.stdout.write(bytes));
 * term.write('echo hello\r');
 * term.write('exit 3\r');
 * console.log(await term.exited); // 3
 * @module
 */
import type WebSocket from 'ws';
import type { Client } from './client';
import type { ConnectedSandbox } from './connected';
import { HttpError } from './errors';
import { query, type CallOptions } from './http';
import { loadWebSocket, refusalError, trackConnectionFailure, untilOpen, webSocketUrl } from './ws';

/** What `io.pocketenv.actor.getTerminalToken` returns. */
export interface TerminalToken {
  /** Opens one terminal, shortly (see `expiresAt`). */
  token: string;
  /** When the token stops being accepted (servers that say). */
  expiresAt?: string;
}

/** Options of {@link open}. */
export interface OpenOptions {
  /** Initial size in character cells. @default 80×24 */
  cols?: number;
  rows?: number;
  /** Gives up on connecting after this long. @default 30000 */
  timeoutMs?: number;
}

/** An open terminal. Output arrives through `onData`; `exited` settles when it ends. */
export interface Terminal {
  /** Sends keystrokes (or any bytes) to the shell. */
  write(data: string | Uint8Array): void;
  /** Tells the shell the window is now `cols`×`rows`. */
  resize(cols: number, rows: number): void;
  /** Registers a listener for the terminal's output (raw bytes, escape sequences included). */
  onData(listener: (data: Buffer) => void): void;
  /** Hangs up: the shell ends as if its terminal window had been closed. */
  close(): void;
  /**
   * The shell's exit code once it ends (128+N when killed by signal N); `undefined` when the
   * connection closed without one (hung up by `close()`, server shutdown). Rejects with the
   * error class of the refusal when the server would not open the terminal
   * (`AuthenticationError`, `SandboxNotFoundError`, `InvalidRequestError` — e.g. not running —,
   * `ProviderError`) or when the connection broke (`HttpError`).
   */
  readonly exited: Promise<number | undefined>;
}

/**
 * Asks for a short-lived token that opens one terminal (`io.pocketenv.actor.getTerminalToken`).
 * @example
 * const { token } = await terminal.token(client);
 */
export async function token(client: Client, opts?: CallOptions): Promise<TerminalToken> {
  const body = (await query(client, 'io.pocketenv.actor.getTerminalToken', {}, opts)) as Partial<TerminalToken>;
  if (typeof body.token !== 'string' || body.token === '') throw new HttpError('getTerminalToken: the server answered without a token');
  return typeof body.expiresAt === 'string' ? { token: body.token, expiresAt: body.expiresAt } : { token: body.token };
}

/** The WebSocket URL of a sandbox's terminal (the token is in the query, as browsers need). */
export function terminalUrl(client: Client, sandboxId: string, terminalToken: string, size: { cols?: number; rows?: number } = {}): URL {
  const url = webSocketUrl(client.baseUrl, `/pty/${encodeURIComponent(sandboxId)}/ws`);
  url.searchParams.set('token', terminalToken);
  if (size.cols) url.searchParams.set('cols', String(size.cols));
  if (size.rows) url.searchParams.set('rows', String(size.rows));
  return url;
}

/**
 * Opens an interactive login shell in a running sandbox. Resolves once the connection is up.
 * @example
 * const term = await terminal.open(sb);
 */
export async function open(sb: ConnectedSandbox, opts: OpenOptions = {}): Promise<Terminal> {
  const { token: terminalToken } = await token(sb.client);
  const url = terminalUrl(sb.client, sb.data.id, terminalToken, opts);
  const ws = new (await loadWebSocket())(url, { headers: { 'user-agent': 'pocketenv-sdk-ts/0.1.0' }, handshakeTimeout: opts.timeoutMs ?? 30_000 });
  const listeners: Array<(data: Buffer) => void> = [];
  ws.on('message', (data: Buffer) => listeners.forEach((l) => l(data)));

  const where = `${url.origin}${url.pathname}`;
  const exited = new Promise<number | undefined>((resolve, reject) => {
    const failure = trackConnectionFailure(ws, 'terminal', where);
    ws.once('close', (code, reasonBuf) => {
      const reason = reasonBuf.toString('utf8');
      const refusal = refusalError(code, reason, 'terminal');
      if (refusal) return reject(refusal);
      const failed = failure();
      if (failed) return reject(failed);
      const match = /^exit (\d{1,3})$/.exec(reason);
      resolve(match ? Number(match[1]) : undefined);
    });
  });
  exited.catch(() => undefined); // the caller may only look at it later

  await untilOpen(ws, exited, 'terminal', where);

  return {
    write(data) {
      if (ws.readyState === ws.OPEN) ws.send(typeof data === 'string' ? Buffer.from(data, 'utf8') : data, { binary: true });
    },
    resize(cols, rows) {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'resize', cols, rows }));
    },
    onData(listener) {
      listeners.push(listener);
    },
    close() {
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1000, 'client disconnect');
    },
    exited,
  };
}
