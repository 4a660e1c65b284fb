/**
 * Test helpers: a tiny XRPC client over fetch (so tests see exactly what goes over the
 * wire), a server run as a child process (for kill -9 and signals), and host inspection
 * to prove nothing is orphaned.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ServerOptions } from '../src/config';
import { startTestServer, type TestServer, type TestServerOptions } from '@pocketenv/server/testing';

export interface Reply<T = any> {
  status: number;
  body: T;
}

export interface CallOptions {
  params?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Sent as is (for invalid JSON, oversized bodies…). */
  rawBody?: string;
  /** Override the client's token; `null` sends none. */
  token?: string | null;
  headers?: Record<string, string>;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
}

export class Api {
  constructor(
    readonly url: string,
    readonly token?: string,
  ) {}

  as(token: string | undefined): Api {
    return new Api(this.url, token);
  }

  async call<T = any>(nsid: string, defaultMethod: 'GET' | 'POST', opts: CallOptions = {}): Promise<Reply<T>> {
    const url = new URL(`/xrpc/${nsid}`, this.url);
    for (const [k, v] of Object.entries(opts.params ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { ...opts.headers };
    const token = opts.token === undefined ? this.token : opts.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (opts.rawBody !== undefined) body = opts.rawBody;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
    const res = await fetch(url, { method: opts.method ?? defaultMethod, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // keep the text: a non-JSON answer is itself something a test may assert on
    }
    return { status: res.status, body: parsed as T };
  }

  query<T = any>(nsid: string, params?: CallOptions['params'], opts: CallOptions = {}): Promise<Reply<T>> {
    return this.call<T>(nsid, 'GET', { ...opts, params });
  }

  procedure<T = any>(nsid: string, params?: CallOptions['params'], body?: unknown, opts: CallOptions = {}): Promise<Reply<T>> {
    return this.call<T>(nsid, 'POST', { ...opts, params, body });
  }

  // Shorthands for the lifecycle, failing loudly on an unexpected status.
  async create(body: Record<string, unknown>): Promise<any> {
    return expectOk(await this.procedure('io.pocketenv.sandbox.createSandbox', undefined, { base: 'debian', ...body }));
  }
  async get(id: string): Promise<any> {
    return expectOk(await this.query('io.pocketenv.sandbox.getSandbox', { id })).sandbox;
  }
  async exec(id: string, command: string, extra: Record<string, unknown> = {}): Promise<any> {
    return expectOk(await this.procedure('io.pocketenv.sandbox.exec', { id }, { command, ...extra }));
  }
  async start(id: string, body: Record<string, unknown> = {}): Promise<any> {
    return expectOk(await this.procedure('io.pocketenv.sandbox.startSandbox', { id }, body));
  }
  async stop(id: string): Promise<any> {
    return expectOk(await this.procedure('io.pocketenv.sandbox.stopSandbox', { id }, {}));
  }
  async delete(id: string): Promise<any> {
    return expectOk(await this.procedure('io.pocketenv.sandbox.deleteSandbox', { id }, {}));
  }
}

export function expectOk<T>(reply: Reply<T>): T {
  if (reply.status !== 200) throw new Error(`expected 200, got ${reply.status}: ${JSON.stringify(reply.body)}`);
  return reply.body;
}

/** Polls until `check` returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The preview-proxy test app (fixtures/preview-app.py), started in a sandbox on `port`; resolves once it listens. */
export async function startPreviewApp(api: Api, sandboxId: string, port: number): Promise<void> {
  const app = (await fs.readFile(path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'preview-app.py'))).toString('base64');
  const run = await api.exec(sandboxId, `mkdir -p /opt/app && echo ${app} | base64 -d > /opt/app/app.py && setsid -f python3 /opt/app/app.py ${port} > /dev/null 2>&1`);
  if (run.exitCode !== 0) throw new Error(`could not start the preview app: ${run.stderr}`);
  await waitFor(`app on port ${port}`, async () => {
    const probe = await api.exec(sandboxId, `python3 -c "import socket; socket.create_connection(('127.0.0.1', ${port}), 1)" 2>/dev/null && echo up`);
    return probe.stdout.includes('up') ? true : undefined;
  }, 30_000, 100);
}

// --- a server as a child process -----------------------------------------------------------

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
// The compiled server, as `pocketenv serve` and users run it (vitest's global setup builds it).
const MAIN = path.join(REPO_ROOT, 'packages/server/dist/main.js');

export interface LogLine {
  msg: string;
  [key: string]: unknown;
}

export class ServerProcess {
  readonly logs: LogLine[] = [];
  private waiters: Array<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderrTail = '';

  private constructor(
    readonly proc: ChildProcess,
    readonly url: string,
  ) {
    this.exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Starts the compiled `main.js` on `dataDir` with a random port; resolves once it prints its URL. */
  static async start(dataDir: string, env: Record<string, string> = {}): Promise<ServerProcess> {
    const proc = spawn(process.execPath, [MAIN], {
      cwd: REPO_ROOT,
      // No warm pool unless a test asks (POCKETENV_POOL_SIZE in `env`): it would build sandboxes nobody uses.
      env: { POCKETENV_POOL_SIZE: '0', ...process.env, POCKETENV_DATA_DIR: dataDir, POCKETENV_PORT: '0', POCKETENV_LOG: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pending: LogLine[] = [];
    let server: ServerProcess | undefined;
    let stderr = '';
    readline.createInterface({ input: proc.stderr! }).on('line', (line) => {
      stderr = (stderr + line + '\n').slice(-4000);
      if (server) server.stderrTail = stderr;
      let parsed: LogLine;
      try {
        parsed = JSON.parse(line) as LogLine;
      } catch {
        return;
      }
      if (server) server.onLog(parsed);
      else pending.push(parsed);
    });
    const url = await new Promise<string>((resolve, reject) => {
      const out = readline.createInterface({ input: proc.stdout! });
      out.on('line', (line) => {
        const m = /^pocketenv: listening on (\S+)$/.exec(line);
        if (m) resolve(m[1]!);
      });
      proc.once('exit', (code) => reject(new Error(`server exited (${code}) before listening:\n${stderr}`)));
    });
    server = new ServerProcess(proc, url);
    server.stderrTail = stderr;
    pending.forEach((l) => server!.onLog(l));
    return server;
  }

  private onLog(line: LogLine): void {
    this.logs.push(line);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(line)) return true;
      w.resolve(line);
      return false;
    });
  }

  /** Resolves with the first log line that matches, looking at past lines from index `since` on. */
  waitForLog(match: (l: LogLine) => boolean, since = 0, timeoutMs = 120_000): Promise<LogLine> {
    const seen = this.logs.slice(since).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching log line within ${timeoutMs} ms; stderr tail:\n${this.stderrTail}`)), timeoutMs);
      this.waiters.push({ match, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  }

  async kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    return this.exited;
  }
}

export async function readOwnerToken(dataDir: string): Promise<string> {
  return (JSON.parse(await fs.readFile(path.join(dataDir, 'token.json'), 'utf8')) as { token: string }).token;
}

// --- host inspection ----------------------------------------------------------------------

export interface HostObjects {
  /** Sandbox ids with a state directory. */
  stateDirs: string[];
  /** Sandbox ids with an OCI container (any state). */
  containers: string[];
  /** Sandbox ids with something mounted under their directory. */
  mounted: string[];
}

/** What the local provider under `<dataDir>/runtime/local` has on the host right now. */
export async function hostObjects(dataDir: string): Promise<HostObjects> {
  const stateDir = path.join(dataDir, 'runtime', 'local');
  const sandboxesDir = path.join(stateDir, 'sandboxes');
  const stateDirs = await fs.readdir(sandboxesDir).catch(() => [] as string[]);
  const ociEntries = await fs.readdir(path.join(stateDir, 'oci')).catch(() => [] as string[]);
  const containers = ociEntries.filter((e) => e.startsWith('pe-')).map((e) => e.slice(3));
  const mounted = new Set<string>();
  for (const line of (await fs.readFile('/proc/self/mountinfo', 'utf8')).split('\n')) {
    const mountPoint = line.split(' ')[4];
    if (!mountPoint?.startsWith(sandboxesDir + '/')) continue;
    mounted.add(mountPoint.slice(sandboxesDir.length + 1).split('/')[0]!);
  }
  return { stateDirs: stateDirs.sort(), containers: containers.sort(), mounted: [...mounted].sort() };
}

/**
 * Whether the host end of a sandbox's veth exists. NOTE: the name scheme is the local
 * provider's (`pe` + first 13 hex of sha256(id), packages/runtime/src/local/network/veth.ts).
 */
export async function vethExists(sandboxId: string): Promise<boolean> {
  const name = 'pe' + createHash('sha256').update(sandboxId).digest('hex').slice(0, 13);
  return new Promise((resolve) => execFile('ip', ['link', 'show', 'dev', name], (err) => resolve(!err)));
}

/** Runs a fixture script (test/fixtures/<name>.ts) as its own process; resolves with its stdout. */
export function runFixture(name: string, args: string[]): Promise<string> {
  const script = path.join(REPO_ROOT, 'packages/server/test/fixtures', `${name}.ts`);
  return new Promise((resolve, reject) =>
    // The sources ("source" export condition), like the test that runs it.
    execFile(process.execPath, ['--conditions=source', '--import', 'tsx', script, ...args], { cwd: REPO_ROOT, timeout: 300_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${name} failed: ${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

/** Mount points anywhere under `dir` (a data dir must have none once its sandboxes are gone). */
export async function mountsUnder(dir: string): Promise<string[]> {
  return (await fs.readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(dir + '/')));
}

/**
 * Starts a test server with some environment variables set only while it reads its
 * configuration (limits, quotas…), so other tests in the worker never see them.
 */
export async function startTestServerWithEnv(env: Record<string, string>, opts: TestServerOptions = {}): Promise<TestServer> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await startTestServer(opts);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
