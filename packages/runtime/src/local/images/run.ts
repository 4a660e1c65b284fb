/**
 * Runs a build command, hands every output line to a callback (for progress) and
 * keeps the last lines so a failure explains itself.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface RunOptions {
  onLine?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /**
   * Stops the command and everything it started (see {@link stopTree}) and rejects with the
   * signal's reason once it has exited, so the caller's cleanup never races it.
   */
  signal?: AbortSignal;
}

export class CommandError extends Error {
  override name = 'CommandError';
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly tail: string,
  ) {
    super(`${command} failed (exit ${exitCode ?? 'signal'}):\n${tail}`);
  }
}

const TAIL_LINES = 40;
/** How long a stopped command has to exit on SIGTERM before the rest of its tree is killed. */
const STOP_GRACE_MS = 10_000;

/** `pid` and every process below it (from /proc's children lists), children first. */
function processTree(pid: number): number[] {
  const below: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return []; // already gone
  }
  for (const task of tasks) {
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const child of children.split(' ').filter(Boolean)) below.push(...processTree(Number(child)));
  }
  return [...below, pid];
}

function signalTree(pid: number, signal: NodeJS.Signals): void {
  for (const p of processTree(pid)) {
    try {
      process.kill(p, signal);
    } catch {
      // exited meanwhile
    }
  }
}

/**
 * SIGTERM to the command AND its descendants: mmdebstrap only notes a SIGTERM and finishes its
 * current phase (a minute), but exits within a second, cleaning up its mounts, when its apt and
 * dpkg children die; systemd-nspawn kills its container. Whatever is left after the grace
 * period gets SIGKILL.
 */
function stopTree(pid: number, exited: Promise<unknown>): void {
  signalTree(pid, 'SIGTERM');
  const force = setTimeout(() => signalTree(pid, 'SIGKILL'), STOP_GRACE_MS);
  void exited.finally(() => clearTimeout(force));
}

export function runCommand(cmd: string, args: string[], opts: RunOptions = {}): Promise<void> {
  if (opts.signal?.aborted) return Promise.reject(opts.signal.reason);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    const tail: string[] = [];
    const lineReader = () => {
      let pending = '';
      return (chunk: Buffer) => {
        pending += chunk.toString('utf8');
        // apt/dpkg redraw progress with \r; treat it as a line break too.
        const parts = pending.split(/\r?\n|\r/);
        pending = parts.pop() ?? '';
        for (const line of parts) {
          if (!line.trim()) continue;
          tail.push(line);
          if (tail.length > TAIL_LINES) tail.shift();
          opts.onLine?.(line);
        }
      };
    };
    child.stdout.on('data', lineReader());
    child.stderr.on('data', lineReader());
    const exited = new Promise((done) => child.once('close', done));
    const stop = () => {
      if (child.pid !== undefined) stopTree(child.pid, exited);
    };
    opts.signal?.addEventListener('abort', stop, { once: true });
    child.on('error', (err: NodeJS.ErrnoException) => {
      opts.signal?.removeEventListener('abort', stop);
      const why = err.code === 'ENOENT' ? `${cmd} is not installed; \`pocketenv setup\` installs the host packages it needs` : String(err);
      reject(new CommandError(cmd, null, why));
    });
    child.on('close', (code) => {
      opts.signal?.removeEventListener('abort', stop);
      if (opts.signal?.aborted) reject(opts.signal.reason);
      else if (code === 0) resolve();
      else reject(new CommandError(`${cmd} ${args.slice(0, 3).join(' ')}…`, code, tail.join('\n')));
    });
  });
}
