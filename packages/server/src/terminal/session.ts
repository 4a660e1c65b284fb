/**
 * One terminal: a host PTY (node-pty) running the provider's terminal command, bridged to one
 * WebSocket. Output goes out in the frames of the socket's protocol (./framing.ts); input frames
 * go in; resize frames resize both the host PTY and (through the provider) the shell's own PTY
 * inside the sandbox. The same core serves every terminal protocol: limits, early frames,
 * backpressure and endings do not depend on the framing.
 *
 * Endings: the shell exits → the protocol's exit frame, if any, then the socket closes with
 * "exit <code>"; the socket closes (or the server shuts down) → the PTY is hung up, which ends
 * the shell; either way the provider's `dispose` runs once.
 */
import type { IPty } from 'node-pty';
import type { TerminalCommand } from '@pocketenv/runtime';
import type { WebSocket } from 'ws';
import type { Logger } from '../log';
import { sendFrame, type TerminalFraming } from './framing';
import { SocketFlow } from './backpressure';
import { CloseCode, closeReason, parseResize, type Resize } from './protocol';

/** After a hangup, how long the runtime's process gets before it is killed outright. */
const HANGUP_KILL_MS = 5000;
/**
 * Input is held until the terminal first prints (or this long): until the runtime has switched
 * the host PTY to raw mode, the host's line discipline would echo type-ahead a second time.
 */
const READY_FALLBACK_MS = 1000;

type NodePty = typeof import('node-pty');
let nodePty: Promise<NodePty> | undefined;

/** node-pty is native: loaded on the first terminal, so a server without it still serves the rest. */
export function loadNodePty(): Promise<NodePty> {
  nodePty ??= import('node-pty').catch((err: unknown) => {
    nodePty = undefined;
    throw new Error(
      `node-pty is not usable (${(err as Error).message}); build it with \`npm rebuild node-pty\` (scripts/bootstrap.sh does)`,
    );
  });
  return nodePty;
}

export interface TerminalSessionOptions {
  ws: WebSocket;
  command: TerminalCommand;
  size: Resize;
  /** How output and control messages are put into frames. */
  framing: TerminalFraming;
  log: Logger;
  /** Frames that arrived before the terminal was ready, in order. */
  pending: Array<{ data: Buffer; isBinary: boolean }>;
  /** PATH to find the host command with (ServerConfig.hostPath). */
  hostPath: string;
}

export class TerminalSession {
  private pty!: IPty;
  private spawned = false;
  private ended = false;
  /** Output is paused while a slow client has much queued (./backpressure.ts). */
  private flow!: SocketFlow;
  /** Input and resizes are applied in arrival order; a resize is asynchronous (see TerminalCommand). */
  private queue: Promise<void>;
  private markReady!: () => void;
  private readonly exited: Promise<number>;
  private resolveExit!: (code: number) => void;

  constructor(private readonly opts: TerminalSessionOptions) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
    this.queue = new Promise<void>((resolve) => (this.markReady = resolve));
  }

  /** Spawns the PTY and wires both directions; resolves once the terminal is running. */
  async start(): Promise<void> {
    const { spawn } = await loadNodePty();
    const { command, size, ws } = this.opts;
    this.pty = spawn(command.file, command.args, {
      name: 'xterm-256color',
      cols: size.cols,
      rows: size.rows,
      cwd: '/',
      // The host command (the OCI runtime) needs nothing from the server's environment.
      env: { PATH: this.opts.hostPath, TERM: 'xterm-256color' },
      // Raw bytes, so a UTF-8 sequence split across reads reaches the client intact.
      encoding: null,
    });
    this.spawned = true;
    this.flow = new SocketFlow(ws);
    this.flow.control(this.pty);
    // Nothing has been read from the PTY yet (this runs in the same tick as spawn): the
    // protocol's "ready" precedes any output.
    sendFrame(this.opts.ws, this.opts.framing.ready?.());
    this.pty.onData((data) => {
      this.markReady();
      this.output(data as unknown as Buffer);
    });
    setTimeout(() => this.markReady(), READY_FALLBACK_MS).unref();
    this.pty.onExit(({ exitCode, signal }) => this.resolveExit(signal ? 128 + signal : exitCode));
    void this.exited.then((code) => this.finish(CloseCode.NORMAL, `exit ${code}`, code));

    ws.on('message', (data: Buffer, isBinary: boolean) => this.input(data, isBinary));
    ws.on('close', () => this.hangUp());
    // The client may have left while node-pty was loading: its close event is gone by now.
    if (ws.readyState !== ws.OPEN) return this.hangUp();
    for (const frame of this.opts.pending.splice(0)) this.input(frame.data, frame.isBinary);
  }

  /** Ends the terminal from the server's side (shutdown). */
  async close(code: number = CloseCode.GOING_AWAY, reason = 'server shutting down'): Promise<void> {
    if (!this.spawned) return; // never started: nothing runs
    this.hangUp();
    await this.finish(code, reason);
  }

  private output(data: Buffer): void {
    const frame = this.opts.framing.output(data);
    if (frame) this.flow.send(frame.data, frame.binary);
  }

  private input(data: Buffer, isBinary: boolean): void {
    if (this.ended) return;
    const resize = isBinary ? undefined : parseResize(data.toString('utf8'));
    this.queue = this.queue
      .then(async () => {
        if (this.ended) return;
        if (resize) await this.resize(resize);
        else this.pty.write(data);
      })
      .catch((err: unknown) => this.opts.log.warn('terminal.input failed', { err }));
  }

  private async resize({ cols, rows }: Resize): Promise<void> {
    this.pty.resize(cols, rows);
    await this.opts.command.resize(cols, rows).catch((err: unknown) => this.opts.log.warn('terminal.resize failed', { err }));
  }

  /** The client went away: hang up the PTY (the shell gets SIGHUP), kill it if it lingers. */
  private hangUp(): void {
    if (this.ended) return;
    try {
      this.pty.kill('SIGHUP');
    } catch {
      /* already gone */
    }
    const timer = setTimeout(() => {
      try {
        this.pty.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }, HANGUP_KILL_MS);
    timer.unref();
    void this.exited.then(() => clearTimeout(timer));
  }

  private finishing?: Promise<void>;

  /** Ends the socket: with the shell's `exitCode` when it exited, else as the server's doing. */
  private finish(code: number, reason: string, exitCode?: number): Promise<void> {
    this.finishing ??= (async () => {
      this.ended = true;
      this.flow?.stop();
      const { ws, command, framing, log } = this.opts;
      if (exitCode !== undefined) {
        sendFrame(ws, framing.flush?.());
        sendFrame(ws, framing.exit?.(exitCode));
      } else {
        sendFrame(ws, framing.error?.(reason));
      }
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, closeReason(reason));
      await this.exited;
      await command.dispose().catch((err: unknown) => log.warn('terminal.dispose failed', { err }));
      log.info('terminal.closed', { reason });
    })();
    return this.finishing;
  }
}
