/**
 * Hostile code and hostile clients must not exhaust the server (issue 18). Code inside a real
 * sandbox kills the exec agent and binds its own listener where the host connects
 * (fixtures/hostile-agent.pl), misbehaving in each way the issue lists; clients that never read
 * or go away mid-exec. Each case asserts what a user would notice: the exec ends (timedOut or a
 * clear 502), the command ran exactly once, the server read a bounded number of bytes, the
 * owner's exec slots and the sandbox's idleness come back when clients leave, and a streaming
 * client that reads nothing costs the server a bounded amount of memory.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { LocalProvider } from '@pocketenv/runtime';
import { startTestServer, type TestServer } from '@pocketenv/server/testing';
import { Api, waitFor } from '../helpers';
import { figure } from './support';

/** The provider's start timeout for an agent that does not answer (default 30 s; shorter here). */
const AGENT_START_TIMEOUT_MS = 8000;
const STALL_MS = 4000;
const MiB = 1024 * 1024;
const HOSTILE = (await fs.readFile(path.join(import.meta.dirname, '..', 'fixtures', 'hostile-agent.pl'))).toString('base64');

let server: TestServer;
let api: Api;
let dataDir: string;
let healthy: string;
const figures: string[] = [];

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-hostile-'));
  const provider = new LocalProvider({ stateDir: path.join(dataDir, 'runtime', 'local'), execAgentStartTimeoutMs: AGENT_START_TIMEOUT_MS });
  server = await startTestServer({ dataDir, providers: [provider], log: false, idleTimeoutMs: 3000, execStallMs: STALL_MS });
  api = new Api(server.url, server.ownerToken);
  healthy = (await api.create({ keepAlive: true })).id;
}, 300_000);

afterAll(async () => {
  if (figures.length) figure('hostile-agent', figures.join('; '));
  await server?.close();
  await fs.rm(dataDir, { recursive: true, force: true });
});

/** A new sandbox whose exec agent has been replaced by the hostile one in `mode`. */
async function hijacked(mode: string, arg = '', body: Record<string, unknown> = { keepAlive: true }): Promise<string> {
  const id = (await api.create(body)).id as string;
  const r = await api.exec(
    id,
    `echo ${HOSTILE} | base64 -d > /tmp/hostile.pl && setsid -f perl /tmp/hostile.pl ${mode} ${arg} >/tmp/hostile.log 2>&1 </dev/null; ` +
      'for i in $(seq 100); do [ -e /tmp/hostile.ready ] && break; sleep 0.1; done; cat /tmp/hostile.log; test -e /tmp/hostile.ready',
  );
  expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  return id;
}

function exec(id: string, body: Record<string, unknown>, signal?: AbortSignal) {
  return fetch(new URL(`/xrpc/io.pocketenv.sandbox.exec?id=${id}`, server.url), {
    method: 'POST',
    headers: { authorization: `Bearer ${server.ownerToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  }).then(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, any> }));
}

/** A raw client of `/exec/<id>/ws` (to misbehave in ways the SDK never would); `closed` gives the close code. */
async function openExecSocket(id: string): Promise<{ ws: WebSocket; closed: Promise<number> }> {
  const ws = new WebSocket(new URL(`/exec/${id}/ws`, server.url.replace(/^http/, 'ws')), { headers: { authorization: `Bearer ${server.ownerToken}` } });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, closed };
}

/** Bytes this process has read through read-like syscalls (sockets included): the server runs in it. */
async function bytesRead(): Promise<number> {
  return Number(/^rchar: (\d+)$/m.exec(await fs.readFile('/proc/self/io', 'utf8'))![1]);
}

describe('an agent that never answers', () => {
  it('an exec with a timeout answers timedOut at its deadline; without one, a clear 502; later execs still work', async () => {
    const id = await hijacked('silent');
    const timed = await exec(id, { command: 'echo hi', timeoutMs: 1500 });
    expect(timed.status).toBe(200);
    expect(timed.body).toMatchObject({ exitCode: 137, timedOut: true });

    const failed = await exec(id, { command: 'echo hi' });
    expect(failed.status).toBe(502);
    expect(failed.body.message).toMatch(/exec agent is not answering.*not run again/);

    // The agent is no longer used: the runtime's exec answers.
    expect(await api.exec(id, 'echo after')).toMatchObject({ stdout: 'after\n', exitCode: 0 });
    await api.delete(id);
  });
});

describe('an agent that confirms the start and ignores the kill', () => {
  it('answers timedOut soon after the deadline, and the host kills the reported command itself', async () => {
    const id = await hijacked('nokill');
    const r = await exec(id, { command: 'echo hi', timeoutMs: 1500 });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ exitCode: 137, timedOut: true });
    expect(r.body.stderr).toContain('did not end within');
    // The command the agent reported (a `sleep 3601` in its own session) is gone, killed from the host.
    const left = await api.exec(id, "ps -eo args | grep -c '^sleep 3601' || true");
    expect(left.stdout.trim()).toBe('0');
    await api.delete(id);
  });
});

describe('an agent that runs the command and closes before confirming', () => {
  it('fails the exec with a clear error, and the command ran exactly once', async () => {
    const id = await hijacked('closeafter');
    const r = await exec(id, { command: 'echo once >> /tmp/side-effect' });
    expect(r.status).toBe(502);
    expect(r.body.message).toMatch(/closed the connection before confirming the command.*not run again/);
    expect((await api.exec(id, 'cat /tmp/side-effect')).stdout).toBe('once\n');
    await api.delete(id);
  });
});

describe('an agent that sends bad exit frames', () => {
  for (const code of ['notanumber', '1e400']) {
    it(`an exit frame of ${code} is a clear 502, never "exitCode": null`, async () => {
      const id = await hijacked('badexit', code);
      const r = await exec(id, { command: 'true', timeoutMs: 30_000 });
      expect(r.status).toBe(502);
      expect(r.body.error).toBe('SandboxProviderError');
      expect(r.body.message).toContain(`sent an invalid exit code "${code}"`);
      await api.delete(id);
    });
  }
});

describe('an agent that floods output', () => {
  for (const [label, size] of [
    ['1 MiB frames', MiB],
    ['64 KiB frames', 64 * 1024],
  ] as const) {
    it(`${label}: the exec ends long before its deadline, after a bounded number of bytes`, async () => {
      const id = await hijacked('flood', String(size));
      const readBefore = await bytesRead();
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      const r = await exec(id, { command: 'true', timeoutMs: 60_000 });
      const wallS = (performance.now() - started) / 1000;
      const cpu = process.cpuUsage(cpuBefore);
      const readMiB = ((await bytesRead()) - readBefore) / MiB;
      if (size === MiB) {
        expect(r.status).toBe(502);
        expect(r.body.message).toContain('a frame of 1048576 bytes');
      } else {
        expect(r.status).toBe(200);
        expect(r.body).toMatchObject({ exitCode: 137, truncated: true });
        expect(r.body.timedOut).toBeUndefined();
        expect(r.body.stderr).toContain('wrote more than 64 MiB beyond the output cap');
      }
      // 1 MiB kept + 64 MiB dropped + 4 MiB after the kill, plus socket buffers (it was unbounded: GBs).
      expect(readMiB).toBeLessThan(100);
      figures.push(
        `flood of ${label}: ended in ${wallS.toFixed(1)} s (deadline 60 s), read ${readMiB.toFixed(1)} MiB, ${((cpu.user + cpu.system) / 1e6).toFixed(2)} CPU s`,
      );
      await api.delete(id);
    });
  }
});

describe('clients that go away from stuck execs', () => {
  it("130 stuck execs whose clients left: the owner's slots come back at once, and the sandbox goes idle", async () => {
    const stuck = await hijacked('stuck', '', { keepAlive: false });
    const clients = Array.from({ length: 130 }, () => new AbortController());
    const pending = clients.map((c) => exec(stuck, { command: 'sleep 1' }, c.signal).catch(() => undefined));
    // All 128 slots are really taken: the owner's other sandbox is refused meanwhile.
    const refused = await waitFor('the exec slots to be taken', async () => {
      const r = await exec(healthy, { command: 'true' });
      return r.status === 429 ? r : undefined;
    });
    expect(refused.body.message).toContain('POCKETENV_MAX_CONCURRENT_EXEC');
    for (const c of clients) c.abort();
    await Promise.all(pending);
    // Released as the server sees the clients' connections close, not at the execs' deadlines (10 min).
    const after = await waitFor('an exec slot', async () => {
      const r = await exec(healthy, { command: 'echo free' });
      return r.status === 429 ? undefined : r;
    }, 30_000);
    expect(after.status).toBe(200);
    expect(after.body.stdout).toBe('free\n');
    // Nothing runs there for anyone any more: the idle reaper (3 s here) stops the sandbox.
    await waitFor('the idle reaper to stop the stuck sandbox', async () => ((await api.get(stuck)).status === 'STOPPED' ? true : undefined), 60_000);
    figures.push('130 stuck execs with aborted clients: slots back at once, sandbox reaped');
    await api.delete(stuck);
  });
});

describe('a streaming exec client that never reads', () => {
  it('`head -c 600M /dev/zero` costs bounded memory; the command is killed and the socket closed 4408', async () => {
    const { ws, closed } = await openExecSocket(healthy);
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
    ws.send(JSON.stringify({ type: 'start', command: 'head -c 600M /dev/zero' }));
    // Stop reading: the kernel buffers fill, then the server holds what waits for us.
    (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const running = async () => Number((await api.exec(healthy, "ps -eo args | grep -c '^head -c 600M' || true")).stdout.trim());
    await waitFor('the command to start', async () => ((await running()) > 0 ? true : undefined));
    // The client read nothing for the stall time: the server kills the command.
    await waitFor('the command to be killed', async () => ((await running()) === 0 ? true : undefined), 60_000);
    clearInterval(sampler);
    const growthMiB = (peak - rssBefore) / MiB;
    figures.push(`streaming exec never read: server RSS +${growthMiB.toFixed(0)} MiB at peak (issue: +637 MB), command killed after a ${STALL_MS / 1000} s stall`);
    expect(growthMiB).toBeLessThan(100);
    // The client reads again: behind the output already sent waits the close frame.
    (ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(await closed).toBe(4408);
  });
});

describe('a streaming exec client that floods stdin', () => {
  it('is read only as fast as the command takes its input', async () => {
    const { ws, closed } = await openExecSocket(healthy);
    // The command never reads its stdin.
    ws.send(JSON.stringify({ type: 'start', command: 'sleep 60', timeoutMs: 12_000 }));
    const chunk = Buffer.alloc(MiB, 0x61);
    let sent = 0;
    const until = performance.now() + 8000;
    while (performance.now() < until) {
      while (ws.bufferedAmount < 4 * MiB) {
        ws.send(chunk);
        sent += chunk.length;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    // What left this client: taken by the server (and the kernel buffers on the way).
    const acceptedMiB = (sent - ws.bufferedAmount) / MiB;
    figures.push(`stdin flood to a command that does not read: ${acceptedMiB.toFixed(0)} MiB accepted in 8 s (kernel buffers)`);
    // Bounded by the buffers on the way (TCP, the agent's 1 MiB): not growing with time.
    expect(acceptedMiB).toBeLessThan(48);
    // Its later frames (and its leaving) wait behind the unread stdin: the deadline ends the command.
    ws.terminate();
    await closed;
    await waitFor('the command to end at its deadline', async () => {
      const r = await api.exec(healthy, "ps -eo args | grep -c '^sleep 60' || true");
      return r.stdout.trim() === '0' ? true : undefined;
    }, 20_000);
  });
});
