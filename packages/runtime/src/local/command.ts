/** Running short host commands (mount, crun state, …) and turning failures into readable errors. */
import { spawn, type StdioOptions } from 'node:child_process';
import { constants } from 'node:os';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  override name = 'CommandError';
  constructor(
    readonly command: string,
    readonly result: CommandResult,
  ) {
    super(`${command} failed (exit ${result.code}): ${(result.stderr || result.stdout).trim().slice(-2000)}`);
  }
}

/** Runs a command to completion with captured output; never throws on a non-zero exit. */
export function runCommand(file: string, args: string[], opts: { input?: string; stdio?: StdioOptions; timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    // `timeout`: SIGKILL after that long (the result then carries 128+9).
    const child = spawn(file, args, { stdio: opts.stdio ?? ['pipe', 'pipe', 'pipe'], timeout: opts.timeoutMs, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? 128 + signalNumber(signal), stdout, stderr }));
    if (child.stdin) {
      child.stdin.on('error', () => undefined); // EPIPE: the command exited without reading
      child.stdin.end(opts.input ?? '');
    }
  });
}

/** Like runCommand, but a non-zero exit is an error. */
export async function mustRun(file: string, args: string[], opts: { input?: string; stdio?: StdioOptions } = {}): Promise<CommandResult> {
  const result = await runCommand(file, args, opts);
  if (result.code !== 0) throw new CommandError([file, ...args.slice(0, 3)].join(' '), result);
  return result;
}

export function signalNumber(signal: NodeJS.Signals | null): number {
  if (!signal) return 0;
  return constants.signals[signal] ?? 0;
}
