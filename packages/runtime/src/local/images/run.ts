/**
 * Runs a build command, hands every output line to a callback (for progress) and
 * keeps the last lines so a failure explains itself.
 */
import { spawn } from 'node:child_process';

export interface RunOptions {
  onLine?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
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

export function runCommand(cmd: string, args: string[], opts: RunOptions = {}): Promise<void> {
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
    child.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ENOENT' ? `${cmd} is not installed; \`pocketenv setup\` installs the host packages it needs` : String(err);
      reject(new CommandError(cmd, null, why));
    });
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new CommandError(`${cmd} ${args.slice(0, 3).join(' ')}…`, code, tail.join('\n')));
    });
  });
}
