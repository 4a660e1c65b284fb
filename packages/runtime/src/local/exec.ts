/**
 * Running one command inside a running sandbox through `crun exec`.
 *
 * Killing "the whole process tree" without a per-exec cgroup: the runtime starts the
 * command in a new session, and every process the command starts inherits that
 * session unless it deliberately leaves it. A kill therefore sweeps the sandbox's
 * cgroup for every process in the command's session or process group (see
 * killSessionTree). Only a process that calls setsid() itself (a daemon) escapes,
 * as under Docker. The runtime's exec process is spawned `detached` so that it, too,
 * can be killed as a group without touching the caller's own process group.
 */
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecProcess, ExecResult, ExecStreamHandlers } from '../provider/types';
import { signalNumber } from './command';
import type { OciProcess } from './oci-config';
import { execViaAgent } from './agent/client';

export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;

/** After the command exits, how long background processes may keep its output pipes open. */
const DRAIN_GRACE_MS = 300;

export interface ExecTarget {
  /** Runtime argv for a given process.json. */
  argv(processFile: string, pidFile: string): { file: string; args: string[] };
  /** Host pids currently in the sandbox's cgroup (for the straggler sweep). */
  pids(): Promise<number[]>;
  /** Dir for the short-lived process.json files. */
  execDir: string;
  /**
   * The sandbox's exec agent socket (agent/exec-agent.pl): when it answers, the command
   * is forked by the agent inside the sandbox (no runtime spawn); else the runtime's exec runs it.
   */
  agentSocket?: string;
  /** Called when the agent did not answer (so the provider can restart it). */
  onAgentMissing?(): void;
  /**
   * Kills a runtime exec's process tree when host signals cannot reach it (gVisor: the command
   * lives in gVisor's kernel, not in the host's). Default: killSessionTree over the cgroup.
   */
  killRuntimeExec?(leader: number, pidFile: string): Promise<void>;
  /** Whether `pid`, read from a terminal's pid file, is that terminal's process. Default: a process in the sandbox's cgroup. */
  ownsTerminalPid?(pid: number, pidFile: string): Promise<boolean>;
  /** The runtime gives the caller's PTY itself to the sandbox as its terminal (runsc), rather than a PTY of its own (crun). */
  terminalIsCallerPty?: boolean;
}

interface RunningExec {
  stdout: Readable;
  stderr: Readable;
  stdin: Writable;
  exited: Promise<{ exitCode: number }>;
  killTree(): Promise<void>;
}

interface ProcIds {
  ppid: number;
  pgid: number;
  sid: number;
}

async function procIds(pid: number): Promise<ProcIds | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  // Fields after the parenthesised command: state ppid pgrp session …
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(rest[1]), pgid: Number(rest[2]), sid: Number(rest[3]) };
}

/**
 * Kills one exec's process tree. `leader` is the runtime's exec process on the host;
 * the runtime runs the command in a NEW session (setsid in its intermediate child),
 * so the session to kill is found from the command's main process: the leader's
 * child inside the sandbox, or the pid the runtime wrote to `pidFile`. Then every
 * sandbox process in that session or process group is SIGKILLed, repeatedly, until
 * none is left (a dying tree may fork once more).
 */
export async function killSessionTree(leader: number, pids: () => Promise<number[]>, pidFile?: string): Promise<void> {
  const sessions = new Set<number>();
  const main = pidFile ? Number((await readFile(pidFile, 'utf8').catch(() => '')).trim()) : 0;
  for (const pid of await pids()) {
    const ids = await procIds(pid);
    if (ids && (ids.ppid === leader || pid === main)) sessions.add(ids.sid);
  }
  for (let round = 0; round < 50; round++) {
    let found = 0;
    try {
      process.kill(-leader, 'SIGKILL');
      found++;
    } catch {
      /* the runtime's exec process is gone */
    }
    for (const pid of await pids()) {
      const ids = await procIds(pid);
      if (ids && (sessions.has(ids.sid) || sessions.has(ids.pgid))) {
        found++;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* exited meanwhile */
        }
      }
    }
    if (found === 0) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function launch(target: ExecTarget, process_: OciProcess): Promise<RunningExec> {
  if (target.agentSocket) {
    const viaAgent = await execViaAgent(target.agentSocket, process_);
    if (viaAgent) {
      viaAgent.stdin.on('error', () => undefined);
      return {
        stdout: viaAgent.stdout,
        stderr: viaAgent.stderr,
        stdin: viaAgent.stdin,
        exited: viaAgent.exited,
        // The agent sweeps the command's session inside the sandbox; resolve once it is dead.
        killTree: async () => {
          viaAgent.kill();
          await viaAgent.exited;
        },
      };
    }
    target.onAgentMissing?.();
  }
  return launchRuntimeExec(target, process_);
}

async function launchRuntimeExec(target: ExecTarget, process_: OciProcess): Promise<RunningExec> {
  await mkdir(target.execDir, { recursive: true, mode: 0o700 });
  const name = randomBytes(8).toString('hex');
  const processFile = join(target.execDir, `${name}.json`);
  const pidFile = join(target.execDir, `${name}.pid`);
  // The env may hold secrets: the file is root-only and removed once the exec ends.
  await writeFile(processFile, JSON.stringify(process_), { mode: 0o600 });
  const { file, args } = target.argv(processFile, pidFile);
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  const leader = child.pid;
  child.stdin!.on('error', () => undefined); // EPIPE when the command does not read its stdin
  const exited = new Promise<{ exitCode: number }>((resolve) => {
    child.on('error', (err) => {
      // The runtime binary itself could not be started (exit code as a shell would report it).
      if (child.stderr && !child.stderr.destroyed) child.stderr.emit('data', Buffer.from(`pocketenv: could not run ${file}: ${err.message}\n`));
      resolve({ exitCode: 127 });
    });
    child.on('exit', (code, signal) => resolve({ exitCode: code ?? 128 + signalNumber(signal) }));
  });
  void exited.then(() => Promise.all([processFile, pidFile, `${pidFile}.internal`].map((f) => rm(f, { force: true }))));

  const killTree = () => {
    if (!leader) return Promise.resolve();
    return target.killRuntimeExec ? target.killRuntimeExec(leader, pidFile) : killSessionTree(leader, target.pids, pidFile);
  };
  return { stdout: child.stdout!, stderr: child.stderr!, stdin: child.stdin!, exited, killTree };
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

/**
 * crun's own message when joining the sandbox's namespaces fails before the command starts.
 * Seen right after a (re)boot under heavy load; the command never ran, so trying again is safe.
 */
const RUNTIME_STARTUP_FAILURE = /^fail startup\nsetns\(pid=\d+, CLONE_[^)]*\): Operation not permitted\n$/;
const STARTUP_RETRIES = 3;

export async function runExec(
  target: ExecTarget,
  process_: OciProcess,
  opts: { stdin?: Uint8Array | string; maxOutputBytes?: number; timeoutMs?: number; signal?: AbortSignal },
): Promise<ExecResult> {
  for (let attempt = 1; ; attempt++) {
    const result = await runExecOnce(target, process_, opts);
    const neverStarted =
      result.exitCode === 1 && result.stdout.length === 0 && RUNTIME_STARTUP_FAILURE.test(result.stderr.toString());
    if (!neverStarted || attempt >= STARTUP_RETRIES || opts.signal?.aborted) return result;
    await new Promise((r) => setTimeout(r, 50 * attempt));
  }
}

async function runExecOnce(
  target: ExecTarget,
  process_: OciProcess,
  opts: { stdin?: Uint8Array | string; maxOutputBytes?: number; timeoutMs?: number; signal?: AbortSignal },
): Promise<ExecResult> {
  const limit = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const stdout = new BoundedBuffer(limit);
  const stderr = new BoundedBuffer(limit);
  const run = await launch(target, process_);
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

export async function streamExec(
  target: ExecTarget,
  process_: OciProcess,
  handlers: ExecStreamHandlers,
  opts: { timeoutMs?: number; signal?: AbortSignal },
): Promise<ExecProcess> {
  const run = await launch(target, process_);
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
