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
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readProcStat } from '../shared/proc-stat';
import { ProviderError } from '../provider/errors';
import type { TerminalCommand } from '../provider/types';
import { runCommand } from './command';
import type { ExecTarget } from './exec';
import type { OciProcess } from './oci-config';
import { checkWindowSize } from '../shared/terminal-shell';

export { checkWindowSize, LOGIN_SHELL } from '../shared/terminal-shell';

/** How long a hung-up shell may take to exit before it is killed. */
const HANGUP_GRACE_MS = 2000;
/** How long `resize` waits for the runtime to report the shell's pid (a resize right after spawn). */
const PID_WAIT_MS = 3000;


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The shell's process on the host, identified by pid AND start time so a reused pid is never touched. */
interface ShellProcess {
  pid: number;
  startTime: string;
}

async function isAlive(shell: ShellProcess): Promise<boolean> {
  return (await readProcStat(shell.pid))?.startTime === shell.startTime;
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
  const { file, args } = target.argv(processFile, pidFile);
  const controls = shellControls({
    pidFile,
    // The runtime writes the pid of the shell; only ever act on a process really in this sandbox.
    isOurs: async (pid) => (await target.pids()).includes(pid),
    cleanup: async () => {
      await Promise.all([rm(processFile, { force: true }), rm(pidFile, { force: true })]);
    },
  });
  return { file, args, ...controls };
}

/**
 * `resize` and `dispose` of a terminal whose shell writes (or has written for it) its host pid
 * to `pidFile`: resize sets the size of the PTY the shell reads from with `stty -F
 * /proc/<pid>/fd/0`, dispose removes the host-side files (`cleanup`) and kills a shell that
 * outlived its terminal after a grace period. Used by every provider whose shell is a host process.
 */
export function shellControls(opts: { pidFile: string; isOurs(pid: number): Promise<boolean>; cleanup(): Promise<void> }): Pick<TerminalCommand, 'resize' | 'dispose'> {
  let shell: ShellProcess | undefined;
  /** The shell once its pid is known (and it is really ours). */
  const findShell = async (waitMs: number): Promise<ShellProcess | undefined> => {
    const deadline = Date.now() + waitMs;
    while (!shell) {
      const pid = Number((await readFile(opts.pidFile, 'utf8').catch(() => '')).trim());
      if (pid > 0 && (await opts.isOurs(pid))) {
        const startTime = (await readProcStat(pid))?.startTime;
        if (startTime) shell = { pid, startTime };
      }
      if (shell || Date.now() >= deadline) break;
      await sleep(25);
    }
    return shell;
  };

  let disposed = false;
  return {
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
      await opts.cleanup();
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
