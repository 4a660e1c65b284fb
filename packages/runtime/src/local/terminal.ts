/**
 * Interactive terminals in a local sandbox: a `crun exec` whose process has `terminal: true`,
 * so the runtime allocates a PTY inside the sandbox (from the sandbox's own devpts) and relays
 * it to its own stdio. That stdio must itself be a terminal (crun calls tcgetattr on it): the
 * caller runs the command inside a host PTY (the server uses node-pty).
 *
 * Resizing: crun does not forward the host PTY's SIGWINCH to the inner PTY, so `resize` sets
 * the inner PTY's size directly with `stty -F /proc/<shell pid>/fd/0` on the host (root can
 * open another process's descriptors); the kernel then sends SIGWINCH to the shell's
 * foreground job, exactly as a terminal emulator's resize would.
 *
 * Ending: when the host PTY goes away, crun exits and closes the inner PTY's master, which
 * hangs up the shell (SIGHUP to its session), as closing an SSH connection does. A shell that
 * ignores the hangup is killed after a grace period.
 *
 * gVisor (runsc exec): runsc hands the host PTY itself to gVisor's kernel as the shell's
 * terminal, so there is no inner PTY. The pid file then names the runsc process, whose fd 0
 * is that host PTY: the same `stty -F` resizes it, and gVisor delivers the SIGWINCH. `tty`
 * inside answers "not a tty" (the terminal is a host file, not one of the sandbox's devpts).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ProviderError } from '../provider/errors';
import type { TerminalCommand } from '../provider/types';
import { runCommand } from './command';
import type { ExecTarget } from './exec';
import type { OciProcess } from './oci-config';

/** How long a hung-up shell may take to exit before it is killed. */
const HANGUP_GRACE_MS = 2000;
/** How long `resize` waits for the runtime to report the shell's pid (a resize right after spawn). */
const PID_WAIT_MS = 3000;
/** Window sizes beyond this are nonsense (and stty refuses them anyway). */
const MAX_CELLS = 10_000;

/** The login shell: bash when the base has it, else sh. `exec` keeps one pid from start to end. */
export const LOGIN_SHELL = ['/bin/sh', '-c', 'if [ -x /bin/bash ]; then exec /bin/bash -l; fi; exec /bin/sh -l'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function checkWindowSize(cols: number, rows: number): void {
  for (const [name, value] of [['cols', cols], ['rows', rows]] as const) {
    if (!Number.isInteger(value) || value < 1 || value > MAX_CELLS) {
      throw new ProviderError(`invalid terminal ${name} ${JSON.stringify(value)}: use a whole number from 1 to ${MAX_CELLS}`);
    }
  }
}

/** The shell's process on the host, identified by pid AND start time so a reused pid is never touched. */
interface ShellProcess {
  pid: number;
  startTime: string;
}

async function startTimeOf(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  // Field 22 (starttime), counted after the parenthesised command name.
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

async function isAlive(shell: ShellProcess): Promise<boolean> {
  return (await startTimeOf(shell.pid)) === shell.startTime;
}

export async function terminalCommand(target: ExecTarget, process_: OciProcess, size: { cols: number; rows: number }): Promise<TerminalCommand> {
  checkWindowSize(size.cols, size.rows);
  await mkdir(target.execDir, { recursive: true, mode: 0o700 });
  const name = `tty-${randomBytes(8).toString('hex')}`;
  const processFile = join(target.execDir, `${name}.json`);
  const pidFile = join(target.execDir, `${name}.pid`);
  // The env may hold secrets: root-only, and removed by dispose().
  const spec = { ...process_, terminal: true, consoleSize: { height: size.rows, width: size.cols } };
  await writeFile(processFile, JSON.stringify(spec), { mode: 0o600 });
  const runtime = target.argv(processFile, pidFile);
  // runsc ignores consoleSize: the caller's PTY is the terminal, so it gets the size first
  // (`exec` keeps the pid, so the pid file still names the process holding the terminal).
  const { file, args } = target.terminalIsCallerPty
    ? {
        file: '/bin/sh',
        args: ['-c', 'stty rows "$1" cols "$2" 2>/dev/null; shift 2; exec "$@"', 'pocketenv-terminal', String(size.rows), String(size.cols), runtime.file, ...runtime.args],
      }
    : runtime;

  let shell: ShellProcess | undefined;
  /** The shell once the runtime has written its pid (and it is really in this sandbox). */
  const findShell = async (waitMs: number): Promise<ShellProcess | undefined> => {
    const deadline = Date.now() + waitMs;
    while (!shell) {
      const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
      const owned = pid > 0 && (target.ownsTerminalPid ? await target.ownsTerminalPid(pid, pidFile) : (await target.pids()).includes(pid));
      if (owned) {
        const startTime = await startTimeOf(pid);
        if (startTime) shell = { pid, startTime };
      }
      if (shell || Date.now() >= deadline) break;
      await sleep(25);
    }
    return shell;
  };

  let disposed = false;
  return {
    file,
    args,
    async resize(cols, rows) {
      checkWindowSize(cols, rows);
      const found = disposed ? undefined : await findShell(PID_WAIT_MS);
      if (!found || !(await isAlive(found))) return; // nothing left to resize
      const tty = `/proc/${found.pid}/fd/0`;
      // Only ever a PTY: the shell may have pointed its stdin elsewhere.
      if (!(await readlink(tty).catch(() => '')).startsWith('/dev/pts/')) return;
      const result = await runCommand('stty', ['-F', tty, 'rows', String(rows), 'cols', String(cols)]);
      if (result.code !== 0 && (await isAlive(found))) {
        throw new ProviderError(`could not resize the terminal: ${result.stderr.trim() || `stty exited ${result.code}`}`);
      }
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      const found = await findShell(0);
      await Promise.all([processFile, pidFile, `${pidFile}.internal`].map((f) => rm(f, { force: true })));
      if (!found) return;
      const deadline = Date.now() + HANGUP_GRACE_MS;
      while ((await isAlive(found)) && Date.now() < deadline) await sleep(50);
      if (await isAlive(found)) {
        try {
          process.kill(found.pid, 'SIGKILL');
        } catch {
          /* exited meanwhile */
        }
      }
    },
  };
}
