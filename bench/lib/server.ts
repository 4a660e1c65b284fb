/**
 * A pocketenv server as its own process (so its RSS is its own), on a fresh data dir and a
 * random loopback port, with its JSON logs parsed (the warm pool announces `pool.ready`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import readline from 'node:readline';

const REPO = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
// The compiled server (run ./pocketenv or `bash scripts/build.sh` first), as users run it.
const MAIN = join(REPO, 'packages/server/dist/main.js');

export interface LogLine {
  msg: string;
  [key: string]: unknown;
}

export class BenchServer {
  readonly logs: LogLine[] = [];
  private listeners: Array<(l: LogLine) => void> = [];

  private constructor(
    readonly proc: ChildProcess,
    readonly url: string,
    readonly dataDir: string,
    readonly token: string,
  ) {}

  static async start(label: string, env: Record<string, string>, nodeArgs: string[] = []): Promise<BenchServer> {
    const dataDir = mkdtempSync(join(tmpdir(), `pe-bench-${label}-`));
    // With the Node flags `pocketenv serve` runs with (the shebang of packages/cli/bin/pocketenv.js).
    const proc = spawn(process.execPath, [...nodeArgs, '--max-semi-space-size=1', MAIN], {
      cwd: REPO,
      env: { ...process.env, POCKETENV_DATA_DIR: dataDir, POCKETENV_PORT: '0', POCKETENV_LOG: '1', POCKETENV_IDLE_TIMEOUT: '0', POCKETENV_PREBUILD: 'none', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const early: LogLine[] = [];
    let server: BenchServer | undefined;
    let tail = '';
    readline.createInterface({ input: proc.stderr! }).on('line', (line) => {
      tail = (tail + line + '\n').slice(-3000);
      try {
        const parsed = JSON.parse(line) as LogLine;
        if (server) server.onLog(parsed);
        else early.push(parsed);
      } catch {
        /* not a log line */
      }
    });
    const url = await new Promise<string>((resolveUrl, reject) => {
      readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
        const m = /^pocketenv: listening on (\S+)$/.exec(line);
        if (m) resolveUrl(m[1]!);
      });
      proc.once('exit', (code) => reject(new Error(`server exited (${code}) before listening:\n${tail}`)));
    });
    const token = (JSON.parse(readFileSync(join(dataDir, 'token.json'), 'utf8')) as { token: string }).token;
    server = new BenchServer(proc, url, dataDir, token);
    early.forEach((l) => server!.onLog(l));
    return server;
  }

  private onLog(line: LogLine): void {
    this.logs.push(line);
    for (const l of this.listeners) l(line);
  }

  /** Resolves at the first log line from now on that matches. */
  next(match: (l: LogLine) => boolean, timeoutMs = 120_000): Promise<LogLine> {
    return new Promise((resolveLine, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a server log line')), timeoutMs);
      const listener = (l: LogLine) => {
        if (!match(l)) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((x) => x !== listener);
        resolveLine(l);
      };
      this.listeners.push(listener);
    });
  }

  /** Server process resident memory, MiB. */
  rssMiB(): number {
    const status = readFileSync(`/proc/${this.proc.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null) {
      const exited = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
