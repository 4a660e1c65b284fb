/**
 * Host side of the in-sandbox exec agent (exec-agent.pl): one unix-socket connection per
 * command, speaking the agent's framed protocol (./protocol.ts), exposed as the same pipes a
 * spawned `crun exec` would give (so exec.ts's output, stdin, timeout and drain logic stay one).
 *
 * Why this is safe: the agent was started by the OCI runtime's exec, so the command it
 * forks has the sandbox's namespaces, cgroup, seccomp filter, capabilities and
 * no_new_privs. The socket lives in a host dir the sandbox can write; the host opens it
 * with O_PATH|O_NOFOLLOW and only connects when it is a socket, so a sandbox cannot
 * redirect the host to any other socket (a symlink is refused).
 *
 * Why it cannot hurt the server: code in the sandbox can replace the agent, so nothing it
 * sends is trusted. Frames are parsed strictly and bounded; output is read only as fast as
 * the caller consumes it (the socket is paused, so the command blocks on its pipes); after a
 * kill only a bounded amount is read; `abandon` ends the connection whatever the agent does.
 * The connection is only ever used for one command and never retried once the request went out.
 */
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { Readable, Writable } from 'node:stream';
import { ProviderError } from '../../provider/errors';
import type { OciProcess } from '../oci-config';
import { KILLED_EXIT_CODE } from '../running-exec';
import { AgentFrameDecoder, AgentProtocolError, MAX_FRAME_PAYLOAD, encodeFrame, requestPayload, type AgentFrame } from './protocol';

/** Linux O_PATH (not exported by node:fs constants). */
const O_PATH = 0o10000000;
/** Output held per stream for a caller that is not reading, before the socket is paused. */
const STREAM_HIGH_WATER = 256 * 1024;
/**
 * After a kill, how much more output is read before the host stops listening: what the
 * socket and the command's pipes still held (a pipe can be grown to 1 MiB), with room to spare.
 */
const AFTER_KILL_MAX_BYTES = 4 * 1024 * 1024;

/** The agent did not run the command as asked. `misbehaved`: it broke the protocol (it may not be ours). */
export class AgentFailure extends ProviderError {
  override name = 'AgentFailure';
  constructor(
    message: string,
    readonly misbehaved: boolean,
  ) {
    super(message);
  }
}

export interface AgentExec {
  stdout: Readable;
  stderr: Readable;
  stdin: Writable;
  /** Pid of the command inside the sandbox's pid namespace (as the agent reported it). */
  pid: number;
  /** The exit code; rejects with AgentFailure when the agent breaks the protocol. */
  exited: Promise<{ exitCode: number }>;
  /** Asks the agent to SIGKILL the command's session; output is then read regardless of the caller's pace, up to a bound. */
  kill(): void;
  /** Stops listening: closes the connection (the real agent then kills the command); a pending exit becomes 137. */
  abandon(): void;
  /** True once the host stopped listening before the agent reported the exit. */
  readonly abandoned: boolean;
}

export interface AgentExecOptions {
  /** Aborts the start: the exec's deadline passed or its caller went away. */
  signal: AbortSignal;
  /** How long the agent may take to confirm the start before it counts as not answering. */
  startTimeoutMs: number;
}

/**
 * Connects without following a symlink the sandbox may have put in the socket's place.
 * 'unreachable' means no connection was made: the agent received nothing.
 */
function connectNoFollow(path: string, signal: AbortSignal): Promise<Socket | 'unreachable' | 'aborted'> {
  let fd: number;
  try {
    fd = openSync(path, O_PATH | constants.O_NOFOLLOW);
  } catch {
    return Promise.resolve('unreachable');
  }
  try {
    if (!fstatSync(fd).isSocket()) {
      closeSync(fd);
      return Promise.resolve('unreachable');
    }
  } catch {
    closeSync(fd);
    return Promise.resolve('unreachable');
  }
  return new Promise((resolve) => {
    const sock = connect(`/proc/self/fd/${fd}`);
    let settled = false;
    const done = (result: Socket | 'unreachable' | 'aborted') => {
      if (settled) return;
      settled = true;
      closeSync(fd);
      signal.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const onAbort = () => {
      sock.destroy();
      done('aborted');
    };
    sock.once('connect', () => {
      sock.removeAllListeners('error');
      done(sock);
    });
    sock.once('error', () => {
      sock.destroy();
      done('unreachable');
    });
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Starts `process_` through the agent at `socketPath`. 'unreachable': no agent listens there
 * (nothing was sent, so the caller may fall back). 'aborted': `opts.signal` fired before the
 * agent confirmed the start (the connection is closed, which makes the real agent kill the
 * command). Throws AgentFailure when the agent got the request but did not confirm it properly:
 * the command may have run, so the caller must not run it again.
 */
export async function execViaAgent(socketPath: string, process_: OciProcess, opts: AgentExecOptions): Promise<AgentExec | 'unreachable' | 'aborted'> {
  const sock = await connectNoFollow(socketPath, opts.signal);
  if (typeof sock === 'string') return sock;
  return new AgentConnection(sock).start(process_, opts);
}

class AgentConnection implements AgentExec {
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly stdin: Writable;
  pid = 0;
  readonly exited: Promise<{ exitCode: number }>;
  private readonly decoder = new AgentFrameDecoder();
  private readonly blocked = new Set<Readable>();
  private readonly ended = new Set<Readable>();
  private started?: { resolve(pid: number): void; reject(err: Error): void };
  private resolveExit!: (r: { exitCode: number }) => void;
  private rejectExit!: (err: Error) => void;
  private finished = false;
  private killed = false;
  abandoned = false;
  private readAfterKill = 0;

  constructor(private readonly sock: Socket) {
    sock.setNoDelay(true);
    this.exited = new Promise((resolve, reject) => {
      this.resolveExit = resolve;
      this.rejectExit = reject;
    });
    this.exited.catch(() => undefined); // observed by the caller once started; unobserved before
    this.stdout = this.output();
    this.stderr = this.output();
    this.stdin = this.input();
    sock.on('data', (chunk: Buffer) => this.receive(chunk));
    sock.on('error', () => undefined);
    sock.on('close', () => this.closed());
  }

  async start(process_: OciProcess, opts: AgentExecOptions): Promise<AgentExec | 'aborted'> {
    const started = new Promise<number>((resolve, reject) => (this.started = { resolve, reject }));
    const timer = setTimeout(() => {
      this.fail(
        new AgentFailure(`the sandbox's exec agent is not answering (no reply within ${Math.round(opts.startTimeoutMs / 1000)} s)`, true),
      );
    }, opts.startTimeoutMs);
    const onAbort = () => this.started?.reject(new AbortedStart());
    opts.signal.addEventListener('abort', onAbort, { once: true });
    if (opts.signal.aborted) onAbort();
    this.send('R', requestPayload(process_));
    try {
      await started;
      return this;
    } catch (err) {
      this.sock.destroy();
      if (err instanceof AbortedStart) return 'aborted';
      throw err;
    } finally {
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      this.started = undefined;
    }
  }

  kill(): void {
    if (this.killed || this.finished) return;
    this.killed = true;
    this.send('K');
    // The agent may be blocked writing output the caller has not read: read on, so it can act.
    this.blocked.clear();
    this.sock.resume();
  }

  abandon(): void {
    if (this.finished) return;
    this.abandoned = true;
    this.sock.destroy();
    this.finish({ exitCode: KILLED_EXIT_CODE });
  }

  private output(): Readable {
    const stream: Readable = new Readable({
      highWaterMark: STREAM_HIGH_WATER,
      read: () => {
        // The caller wants more: read from the agent again once no stream is full.
        this.blocked.delete(stream);
        if (this.blocked.size === 0 && !this.sock.destroyed) this.sock.resume();
      },
    });
    return stream;
  }

  private input(): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        for (let at = 0; at < chunk.length; at += MAX_FRAME_PAYLOAD) this.send('I', chunk.subarray(at, at + MAX_FRAME_PAYLOAD));
        // Backpressure: wait until the socket took it (or is gone).
        if (!this.sock.writableNeedDrain || this.sock.destroyed) return cb();
        const go = () => {
          this.sock.off('drain', go);
          this.sock.off('close', go);
          cb();
        };
        this.sock.on('drain', go);
        this.sock.on('close', go);
      },
      final: (cb) => {
        this.send('E');
        cb();
      },
    });
  }

  private send(type: 'R' | 'I' | 'E' | 'K', payload?: Buffer): void {
    if (!this.sock.destroyed && this.sock.writable) this.sock.write(encodeFrame(type, payload));
  }

  private receive(chunk: Buffer): void {
    if (this.killed) {
      this.readAfterKill += chunk.length;
      // A killed command's pipes hold little; an agent that keeps sending is not obeying the kill.
      if (this.readAfterKill > AFTER_KILL_MAX_BYTES) return this.abandon();
    }
    try {
      for (const frame of this.decoder.push(chunk)) this.handle(frame);
    } catch (err) {
      if (!(err instanceof AgentProtocolError)) throw err;
      this.fail(new AgentFailure(`the sandbox's exec agent sent ${err.message}`, true));
    }
  }

  private handle(frame: AgentFrame): void {
    switch (frame.type) {
      case 'started':
        this.pid = frame.pid;
        this.started?.resolve(frame.pid);
        return;
      case 'notStarted':
        return this.fail(new AgentFailure(`the command could not be started in the sandbox: ${frame.reason || 'no reason given'}`, false));
      case 'stdout':
        return this.deliver(this.stdout, frame.data);
      case 'stderr':
        return this.deliver(this.stderr, frame.data);
      case 'exit':
        // All output comes before X: the streams are complete. The host closes first (see the agent).
        this.sock.destroy();
        return this.finish({ exitCode: frame.exitCode });
    }
  }

  private deliver(stream: Readable, data: Buffer): void {
    if (this.ended.has(stream) || stream.destroyed) return;
    // A caller that does not keep up pauses the agent: the kernel buffer fills and the command blocks.
    if (!stream.push(data) && !this.killed) {
      this.blocked.add(stream);
      this.sock.pause();
    }
  }

  private fail(err: AgentFailure): void {
    this.sock.destroy();
    // Before the pid, the start fails; after it, the exit (the caller kills the reported session).
    if (this.pid === 0) return this.started?.reject(err);
    if (this.finished) return;
    this.finished = true;
    this.endOutput();
    this.rejectExit(err);
  }

  private closed(): void {
    if (this.pid === 0) {
      this.started?.reject(new AgentFailure("the sandbox's exec agent closed the connection before confirming the command", true));
      return this.endOutput();
    }
    if (this.finished) return this.endOutput();
    if (!this.abandoned) {
      this.deliver(this.stderr, Buffer.from('pocketenv: lost the connection to the sandbox (it was stopped?)\n'));
      this.finish({ exitCode: 255 });
    }
  }

  private finish(result: { exitCode: number }): void {
    if (this.finished) return;
    this.finished = true;
    this.endOutput();
    this.resolveExit(result);
  }

  private endOutput(): void {
    for (const s of [this.stdout, this.stderr]) {
      if (this.ended.has(s)) continue;
      this.ended.add(s);
      s.push(null);
    }
  }
}

/** The start was given up (deadline or caller): not an agent failure. */
class AbortedStart extends Error {}
