/**
 * Host side of the in-sandbox exec agent (exec-agent.pl): one unix-socket connection per
 * command, speaking the agent's framed protocol, exposed as the same pipes a spawned
 * `crun exec` would give (so exec.ts's output, stdin, timeout and drain logic stay one).
 *
 * Why this is safe: the agent was started by the OCI runtime's exec, so the command it
 * forks has the sandbox's namespaces, cgroup, seccomp filter, capabilities and
 * no_new_privs. The socket lives in a host dir the sandbox can write; the host opens it
 * with O_PATH|O_NOFOLLOW and only connects when it is a socket, so a sandbox cannot
 * redirect the host to any other socket (a symlink is refused).
 */
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import type { OciProcess } from '../oci-config';

/** Linux O_PATH (not exported by node:fs constants). */
const O_PATH = 0o10000000;
const MAX_FRAME = 64 * 1024;
const MAX_INCOMING_FRAME = 1024 * 1024;

export interface AgentExec {
  stdout: PassThrough;
  stderr: PassThrough;
  stdin: Writable;
  /** Pid of the command inside the sandbox's pid namespace. */
  pid: number;
  exited: Promise<{ exitCode: number }>;
  /** Asks the agent to SIGKILL the command's session and process group. */
  kill(): void;
}

function frame(type: string, payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

function strings(values: string[]): Buffer {
  return Buffer.concat(values.flatMap((v) => {
    const b = Buffer.from(v, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return [len, b];
  }));
}

/** Connects without following a symlink the sandbox may have put in the socket's place. */
function connectNoFollow(path: string): Promise<Socket | undefined> {
  let fd: number;
  try {
    fd = openSync(path, O_PATH | constants.O_NOFOLLOW);
  } catch {
    return Promise.resolve(undefined);
  }
  try {
    if (!fstatSync(fd).isSocket()) {
      closeSync(fd);
      return Promise.resolve(undefined);
    }
  } catch {
    closeSync(fd);
    return Promise.resolve(undefined);
  }
  return new Promise((resolve) => {
    const sock = connect(`/proc/self/fd/${fd}`);
    const done = (s: Socket | undefined) => {
      closeSync(fd);
      resolve(s);
    };
    sock.once('connect', () => {
      sock.removeAllListeners('error');
      done(sock);
    });
    sock.once('error', () => {
      sock.destroy();
      done(undefined);
    });
  });
}

/**
 * Starts `process_` through the agent at `socketPath`. Undefined when the agent is not
 * there or could not start the command (nothing ran: the caller may fall back).
 */
export async function execViaAgent(socketPath: string, process_: OciProcess): Promise<AgentExec | undefined> {
  const sock = await connectNoFollow(socketPath);
  if (!sock) return undefined;
  sock.setNoDelay(true);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let resolveExit!: (r: { exitCode: number }) => void;
  const exited = new Promise<{ exitCode: number }>((r) => (resolveExit = r));
  let resolvePid!: (pid: number | undefined) => void;
  const started = new Promise<number | undefined>((r) => (resolvePid = r));
  let pid: number | undefined;
  let exitCode: number | undefined;
  let buf: Buffer = Buffer.alloc(0);

  // The caller may have stopped listening (drain grace over): late output is dropped.
  const deliver = (s: PassThrough, b: Buffer) => {
    if (!s.destroyed && !s.writableEnded) s.write(b);
  };
  let outputsClosed = 0;
  for (const s of [stdout, stderr]) {
    s.once('close', () => {
      if (++outputsClosed === 2) sock.destroy();
    });
  }
  sock.on('data', (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    while (buf.length >= 5) {
      const len = buf.readUInt32BE(1);
      // The agent sends at most 64 KiB per frame; anything bigger is not our agent talking.
      if (len > MAX_INCOMING_FRAME) {
        sock.destroy();
        return;
      }
      if (buf.length < 5 + len) break;
      const type = String.fromCharCode(buf[0]!);
      const payload = buf.subarray(5, 5 + len);
      buf = buf.subarray(5 + len);
      if (type === 'O') deliver(stdout, payload);
      else if (type === 'F') deliver(stderr, payload);
      else if (type === 'P') {
        pid = Number(payload.toString('latin1'));
        resolvePid(pid);
      } else if (type === 'X') {
        exitCode = Number(payload.toString('latin1'));
        resolveExit({ exitCode });
        // All output comes before X: the streams are complete (closing them closes the socket).
        stdout.end();
        stderr.end();
      }
    }
  });
  const closed = () => {
    resolvePid(undefined);
    if (exitCode === undefined && pid !== undefined) {
      deliver(stderr, Buffer.from('pocketenv: lost the connection to the sandbox (it was stopped?)\n'));
      resolveExit({ exitCode: 255 });
    }
    if (!stdout.writableEnded) stdout.end();
    if (!stderr.writableEnded) stderr.end();
  };
  sock.on('error', () => undefined);
  sock.on('close', closed);

  const send = (type: string, payload: Buffer = Buffer.alloc(0)) => {
    if (!sock.destroyed && sock.writable) sock.write(frame(type, payload));
  };
  send('R', strings([process_.cwd, String(process_.args.length), ...process_.args, ...process_.env]));
  if ((await started) === undefined) {
    sock.destroy();
    return undefined;
  }

  const stdin = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (let at = 0; at < chunk.length; at += MAX_FRAME) send('I', chunk.subarray(at, at + MAX_FRAME));
      // Backpressure: wait until the socket took it.
      if (sock.writableNeedDrain) sock.once('drain', () => cb());
      else cb();
    },
    final(cb) {
      send('E');
      cb();
    },
  });
  return {
    stdout,
    stderr,
    stdin,
    pid: pid!,
    exited,
    kill: () => send('K'),
  };
}
