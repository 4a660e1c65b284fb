/**
 * Real network namespaces for tests, without an OCI runtime: a "fake sandbox" is
 * a process in its own user + network + pid namespaces (like a container's init
 * between `crun create` and `crun start`), and helpers run commands, probes and
 * listeners inside such namespaces.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { createConnection } from 'node:net';

/** Where a command runs: a process's netns, a named netns (/run/netns), or the host. */
export type NetnsTarget = { pid: number } | { netns: string } | 'host';

export interface CommandOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

export interface FakeSandbox {
  /** A process inside the namespaces: what the provider passes to attach(). */
  pid: number;
  /** Kills every process of the sandbox; its netns (and any veth in it) then goes away. */
  kill(): Promise<void>;
}

export async function startFakeSandbox(): Promise<FakeSandbox> {
  // unshare ignores TERM while waiting for its child; KILL it and --kill-child takes the child along.
  const child = spawn('unshare', ['--user', '--map-root-user', '--net', '--pid', '--fork', '--kill-child', 'sleep', 'infinity'], {
    stdio: 'ignore',
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('unshare did not start');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  // unshare(2) runs just after exec: until then the process is still in the host's netns.
  const hostNetns = readlinkSync('/proc/self/ns/net');
  try {
    await waitUntil(() => readlinkSync(`/proc/${pid}/ns/net`) !== hostNetns, 5000, 'the fake sandbox to enter its own netns');
  } catch (err) {
    await kill();
    throw err;
  }
  return { pid, kill };
}

function prefix(target: NetnsTarget): string[] {
  if (target === 'host') return [];
  if ('pid' in target) return ['nsenter', '-t', String(target.pid), '-n', '--'];
  // Only the network namespace (not `ip netns exec`, which also makes a mount namespace: see git-host.ts).
  return ['nsenter', `--net=/var/run/netns/${target.netns}`, '--'];
}

/** Runs a command in the target's network namespace (host filesystem and user). */
export function runIn(target: NetnsTarget, argv: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<CommandOutcome> {
  const full = [...prefix(target), ...argv];
  return new Promise((resolve, reject) => {
    const child = spawn(full[0]!, full.slice(1), { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 137, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

export async function mustRunIn(target: NetnsTarget, argv: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<string> {
  const r = await runIn(target, argv, opts);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (exit ${r.code}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

// Connects, reads until the peer closes, and reports what it got. A dropped SYN is a timeout.
const PROBE = `
const net = require('node:net');
const [host, port, ms] = process.argv.slice(1);
const socket = net.connect({ host, port: Number(port) });
let data = '';
const done = (s) => { console.log(s); process.exit(0); };
const timer = setTimeout(() => done('timeout'), Number(ms));
socket.on('data', (d) => (data += d));
socket.on('end', () => done('got:' + data));
socket.on('error', (e) => done('error:' + e.code));
`;

/** What a TCP client in the target's netns receives from host:port: 'got:<data>', 'timeout' or 'error:<code>'. */
export async function probeTcp(target: NetnsTarget, host: string, port: number, timeoutMs = 2000): Promise<string> {
  if (target === 'host') return probeFromHere(host, port, timeoutMs);
  const r = await mustRunIn(target, [process.execPath, '-e', PROBE, host, String(port), String(timeoutMs)]);
  return r.trim();
}

function probeFromHere(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    let data = '';
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    const finish = (s: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(s);
    };
    socket.on('data', (d) => (data += d));
    socket.on('end', () => finish('got:' + data));
    socket.on('error', (e: NodeJS.ErrnoException) => finish('error:' + e.code));
  });
}

/** True if a TCP connection from here to host:port is accepted within timeoutMs. */
export function canConnect(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('connect', () => finish(true));
    socket.on('error', () => finish(false));
  });
}

const LISTENER = `
const net = require('node:net');
const [host, token] = process.argv.slice(1);
const server = net.createServer((c) => c.end(token));
server.listen(0, host, () => console.log('listening ' + server.address().port));
`;

export interface TcpListener {
  port: number;
  close(): Promise<void>;
}

/** A TCP server in the target's netns that sends `token` to every client and closes. */
export async function startTcpListener(target: NetnsTarget, bindHost: string, token: string): Promise<TcpListener> {
  const full = [...prefix(target), process.execPath, '-e', LISTENER, bindHost, token];
  const child: ChildProcess = spawn(full[0]!, full.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`listener exited (${code}): ${stderr}`)));
  }).catch(async (err: unknown) => {
    await close();
    throw err;
  });
  return { port, close };
}

/** The host's IPv4 address on its default-route interface (e.g. 192.0.2.2). */
export async function hostPrimaryIpv4(): Promise<string> {
  const routes = JSON.parse(await mustRunIn('host', ['ip', '-4', '-j', 'route', 'show', 'default'])) as Array<{ dev: string }>;
  const dev = routes[0]?.dev;
  if (!dev) throw new Error('the host has no IPv4 default route');
  const addrs = JSON.parse(await mustRunIn('host', ['ip', '-4', '-j', 'addr', 'show', 'dev', dev])) as Array<{ addr_info: Array<{ local: string }> }>;
  const local = addrs[0]?.addr_info[0]?.local;
  if (!local) throw new Error(`${dev} has no IPv4 address`);
  return local;
}

export function hostLinkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

/** Names of the host's network interfaces. */
export function hostLinks(): string[] {
  return readdirSync('/sys/class/net');
}

export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
