import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/pocketenv.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node packages/cli/bin/pocketenv.js …args` as a real process. The environment starts
 * from ours minus the POCKETENV_* variables (so the machine's settings and token files never
 * leak in; the shared image cache location is kept) and the colour switches, plus `env`.
 */
export function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, env);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

/** Starts the CLI process without waiting for it (see {@link runCli} for the environment). */
export function spawnCli(args: string[], env: Record<string, string | undefined> = {}) {
  const base: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    const dropped = (key.startsWith('POCKETENV_') && key !== 'POCKETENV_IMAGE_DIR') || key === 'NO_COLOR' || key === 'FORCE_COLOR';
    if (value !== undefined && !dropped) base[key] = value;
  }
  // A `pocketenv serve` under test logs nothing and keeps no warm pool unless `env` says so.
  base.POCKETENV_LOG = '0';
  base.POCKETENV_POOL_SIZE = '0';
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete base[key];
    else base[key] = value;
  }
  return spawn(process.execPath, [BIN, ...args], { env: base, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** True when `text` contains an ANSI escape sequence. */
export function hasEscapes(text: string): boolean {
  return text.includes('\u001b[');
}
