/**
 * Host processes of the fake provider: spawning a command "in" a sandbox (a real child
 * process on this host, in its own session, with the sandbox's tree as working directory)
 * and killing process trees.
 *
 * Which processes belong to a sandbox: every process the provider starts carries
 * `POCKETENV_FAKE_SANDBOX=<sandbox dir>` in its environment, and children inherit it, so
 * `stop` finds them by reading `/proc/<pid>/environ`. A process that clears its environment
 * AND leaves its session escapes: the fake provider isolates nothing (see index.ts).
 */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { readProcStat } from '../shared/proc-stat';
import type { RunningExec } from './exec-io';
import { signalNumber } from '../local/command';

/** The environment variable that marks a sandbox's processes. */
export const MARKER = 'POCKETENV_FAKE_SANDBOX';

/**
 * Enters the working directory the way the local provider's exec agent does: a directory
 * that cannot be entered is exit code 126 with a message, not a provider failure.
 * $1 host dir, $2 the same dir as the sandbox names it, then the command's argv.
 */
const ENTER_AND_EXEC = 'cd -- "$1" 2>/dev/null || { printf "pocketenv: cannot enter %s\\n" "$2" >&2; exit 126; }; shift 2; exec "$@"';

export interface SpawnSpec {
  argv: string[];
  /** Host directory the command starts in, and how the sandbox names it. */
  hostCwd: string;
  sandboxCwd: string;
  /** The complete environment (nothing of the server's own is inherited). */
  env: Record<string, string>;
  /** An existing host directory to spawn from (the sandbox's root). */
  spawnDir: string;
}

/** Starts `spec.argv` as the leader of a new session; hand the result to collectExec / streamRunning. */
export function spawnCommand(spec: SpawnSpec): RunningExec {
  const child = spawn('/bin/sh', ['-c', ENTER_AND_EXEC, 'pocketenv', spec.hostCwd, spec.sandboxCwd, ...spec.argv], {
    cwd: spec.spawnDir,
    env: spec.env,
    // A new session (setsid): the command and everything it starts can be killed together
    // without touching the server's own process group.
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.on('error', () => undefined); // EPIPE when the command does not read its stdin
  const exited = new Promise<{ exitCode: number }>((resolve) => {
    child.on('error', (err) => {
      if (!child.stderr.destroyed) child.stderr.emit('data', Buffer.from(`pocketenv: could not run /bin/sh: ${err.message}\n`));
      resolve({ exitCode: 127 });
    });
    child.on('exit', (code, signal) => resolve({ exitCode: code ?? 128 + signalNumber(signal) }));
  });
  const leader = child.pid;
  return {
    stdout: child.stdout,
    stderr: child.stderr,
    stdin: child.stdin,
    exited,
    killTree: () => (leader ? killSession(leader) : Promise.resolve()),
  };
}

async function hostPids(): Promise<number[]> {
  const entries = await readdir('/proc').catch(() => [] as string[]);
  return entries.map(Number).filter((pid) => Number.isInteger(pid) && pid > 0 && pid !== process.pid);
}

function kill(pid: number): boolean {
  try {
    process.kill(pid, 'SIGKILL');
    return true;
  } catch {
    return false; // exited meanwhile, or not ours
  }
}

/**
 * SIGKILLs every process in session (or process group) `sid`, repeatedly, until none is
 * left: a dying tree may fork once more. Without /proc only the process group is killed.
 */
export async function killSession(sid: number): Promise<void> {
  for (let round = 0; round < 50; round++) {
    let found = kill(-sid) ? 1 : 0;
    for (const pid of await hostPids()) {
      const stat = await readProcStat(pid);
      if (stat && stat.state !== 'Z' && (stat.sid === sid || stat.pgid === sid) && kill(pid)) found++;
    }
    if (found === 0) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Live processes whose environment carries `MARKER=<value>`. */
export async function markedProcesses(value: string): Promise<number[]> {
  const wanted = `${MARKER}=${value}`;
  const found: number[] = [];
  for (const pid of await hostPids()) {
    const environ = await readFile(`/proc/${pid}/environ`).catch(() => undefined);
    if (!environ || !environ.toString('utf8').split('\0').includes(wanted)) continue;
    const stat = await readProcStat(pid);
    if (stat && stat.state !== 'Z') found.push(pid);
  }
  return found;
}

/**
 * Ends every process of a sandbox: SIGTERM, up to `graceMs` to exit, then SIGKILL until none
 * is left (what a stopped container does to its processes).
 */
export async function endMarkedProcesses(value: string, graceMs: number): Promise<void> {
  let pids = await markedProcesses(value);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* exited meanwhile */
    }
  }
  const deadline = Date.now() + graceMs;
  while (pids.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    pids = await markedProcesses(value);
  }
  for (let round = 0; round < 50 && pids.length > 0; round++) {
    pids.forEach(kill);
    await new Promise((r) => setTimeout(r, 10));
    pids = await markedProcesses(value);
  }
}
