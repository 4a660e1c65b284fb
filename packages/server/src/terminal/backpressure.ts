/**
 * Output to a WebSocket client at the client's pace (terminal and streaming exec): while more
 * than HIGH_WATER bytes wait in the socket for a slow client, the source (a PTY, a command's
 * output) is paused, so the command blocks on its own pipe instead of the server buffering
 * without bound; below LOW_WATER it resumes. A client that stays paused for `stallMs` is
 * reported through `onStall` (the caller ends the session).
 */
import type { WebSocket } from 'ws';

const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 64 * 1024;

export interface PausableSource {
  pause(): void;
  resume(): void;
}

export interface SocketFlowOptions {
  /** How long the client may read nothing while output waits; undefined: no limit. */
  stallMs?: number;
  onStall?(): void;
}

export class SocketFlow {
  private source?: PausableSource;
  private paused = false;
  private stopped = false;
  private stallTimer?: NodeJS.Timeout;

  constructor(
    private readonly ws: WebSocket,
    private readonly opts: SocketFlowOptions = {},
  ) {}

  /** The source to pause (it may produce output before it is known). */
  control(source: PausableSource): void {
    this.source = source;
    if (this.paused) source.pause();
  }

  /** Sends one frame (binary unless told otherwise: the hosted terminal protocols send text). */
  send(data: Buffer | string, binary = true): void {
    const { ws } = this;
    if (this.stopped || ws.readyState !== ws.OPEN) return;
    ws.send(data, { binary }, () => this.drained());
    if (!this.paused && ws.bufferedAmount > HIGH_WATER) {
      this.paused = true;
      this.source?.pause();
      if (this.opts.stallMs !== undefined) {
        this.stallTimer = setTimeout(() => this.opts.onStall?.(), this.opts.stallMs);
        this.stallTimer.unref();
      }
    }
  }

  /** No more resuming (the session is over). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.stallTimer);
  }

  private drained(): void {
    if (!this.paused || this.stopped || this.ws.bufferedAmount >= LOW_WATER) return;
    this.paused = false;
    clearTimeout(this.stallTimer);
    this.source?.resume();
  }
}
