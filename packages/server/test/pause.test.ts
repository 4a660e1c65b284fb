/**
 * Pause and resume through the real entry points (HTTP, SDK, CLI): a paused sandbox keeps its
 * processes and uses no CPU (its cgroup's cpuacct usage does not advance), a counter goes on
 * from where it was after resume, any use of a paused sandbox resumes it (exec, streaming
 * uses, files), official clients see RUNNING and decode it, and a paused sandbox counts as running.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pocketenv, sandbox as sdkSandbox } from '@pocketenv/sdk';
import { fetchPreview, startTestServer, type TestServer } from '../src/testing';
import { Api, expectOk, startPreviewApp, waitFor } from './helpers';

let server: TestServer;
let api: Api;

beforeAll(async () => {
  server = await startTestServer({ idleTimeoutMs: 0 });
  api = new Api(server.url, server.ownerToken);
});

afterAll(async () => {
  await server?.close();
});

const pause = (id: string) => api.procedure('io.pocketenv.sandbox.pauseSandbox', { id }, {});
const resume = (id: string) => api.procedure('io.pocketenv.sandbox.resumeSandbox', { id }, {});

/** CPU time (ns) the sandbox's processes used, from the host's cgroup (v1 cpuacct or v2 cpu.stat). */
async function cpuUsageNs(id: string): Promise<number> {
  const v1 = await readFile(`/sys/fs/cgroup/cpuacct/pocketenv/${id}/cpuacct.usage`, 'utf8').catch(() => undefined);
  if (v1 !== undefined) return Number(v1.trim());
  const stat = await readFile(`/sys/fs/cgroup/pocketenv/${id}/cpu.stat`, 'utf8');
  return Number(/usage_usec (\d+)/.exec(stat)![1]) * 1000;
}

/**
 * Starts a busy counter (it spins, so it uses CPU all the time) that writes "<pid> <n>" to
 * /tmp/count (renamed into place, so a reader never sees a half-written file).
 */
async function startCounter(id: string): Promise<void> {
  await api.exec(id, `nohup sh -c 'i=0; while :; do i=$((i+1)); echo "$$ $i" > /tmp/count.new; mv /tmp/count.new /tmp/count; done' >/dev/null 2>&1 &`);
}

async function counter(id: string): Promise<{ pid: string; n: number }> {
  const [pid, n] = (await api.exec(id, 'cat /tmp/count')).stdout.trim().split(' ');
  return { pid, n: Number(n) };
}

describe('pause and resume', () => {
  it('freezes the processes (no CPU used), keeps them, and the counter goes on from where it was after resume', async () => {
    const sb = await api.create({ name: 'pause-counter' });
    await startCounter(sb.id);
    await waitFor('the counter to count', async () => ((await counter(sb.id)).n > 100 ? true : undefined));

    const paused = expectOk(await pause(sb.id));
    expect(paused).toMatchObject({ id: sb.id, status: 'RUNNING', paused: true });
    expect(typeof paused.pausedAt).toBe('string');
    expect(await api.get(sb.id)).toMatchObject({ status: 'RUNNING', paused: true });
    // Pausing again is fine.
    expect(expectOk(await pause(sb.id)).paused).toBe(true);

    // No CPU while paused: the cgroup's usage does not move although the counter spins when it runs.
    const usage = await cpuUsageNs(sb.id);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await cpuUsageNs(sb.id)).toBe(usage);

    const resumed = expectOk(await resume(sb.id));
    expect(resumed.status).toBe('RUNNING');
    expect(resumed.paused).toBeUndefined();
    const after = await counter(sb.id);
    await waitFor('the counter to go on', async () => ((await counter(sb.id)).n > after.n ? true : undefined));
    // The same process (not a restarted one) goes on counting.
    expect((await counter(sb.id)).pid).toBe(after.pid);
    expect(await cpuUsageNs(sb.id)).toBeGreaterThan(usage);
    // Resuming a running sandbox is fine.
    expect(expectOk(await resume(sb.id)).status).toBe('RUNNING');
  });

  it('resumes a paused sandbox on exec (auto-resume), keeping its processes', async () => {
    const sb = await api.create({ name: 'pause-auto' });
    await startCounter(sb.id);
    await waitFor('the counter to count', async () => ((await counter(sb.id)).n > 10 ? true : undefined));
    const before = await counter(sb.id);
    expectOk(await pause(sb.id));

    const out = await api.exec(sb.id, 'cat /tmp/count');
    expect(out.exitCode).toBe(0);
    const [pid, n] = out.stdout.trim().split(' ');
    expect(pid).toBe(before.pid);
    expect(Number(n)).toBeGreaterThanOrEqual(before.n);
    expect((await api.get(sb.id)).paused).toBeUndefined();
  });

  it('through the SDK: pause, resume, and a streaming exec resumes it', async () => {
    const client = pocketenv.newClient(server.ownerToken, { baseUrl: server.url });
    const sb = sdkSandbox.connect((await sdkSandbox.get(client, 'pause-auto'))!, client);
    const paused = await sdkSandbox.pause(sb);
    expect(paused.paused).toBe(true);
    // A streaming use (the exec-stream socket) resumes it too.
    const streamed = await sdkSandbox.execStream(sb, 'echo streamed');
    expect(streamed.exitCode).toBe(0);
    expect((await api.get(sb.id)).paused).toBeUndefined();
    await sdkSandbox.pause(sb);
    const resumed = await sdkSandbox.resume(sb);
    expect(resumed.paused).toBeUndefined();
    expect(resumed.status).toBe('RUNNING');
  });

  it('stops and deletes a paused sandbox; stop then start boots it afresh', async () => {
    const sb = await api.create({ name: 'pause-stop' });
    await startCounter(sb.id);
    await waitFor('the counter to count', async () => ((await counter(sb.id)).n > 0 ? true : undefined));
    expectOk(await pause(sb.id));
    await api.stop(sb.id);
    const stopped = await api.get(sb.id);
    expect(stopped.status).toBe('STOPPED');
    expect(stopped.paused).toBeUndefined();
    // A stopped sandbox cannot be paused or resumed: it says what to do.
    const refused = await pause(sb.id);
    expect(refused.status).toBe(400);
    expect(refused.body.message).toMatch(/not RUNNING/);
    expect((await resume(sb.id)).status).toBe(400);

    await api.start(sb.id);
    // The counter process ended with the stop (its files stay).
    expect((await api.exec(sb.id, `ps -eo args= | grep -c '[c]ount.new' || true`)).stdout).toBe('0\n');
    expect((await api.exec(sb.id, 'test -e /tmp/count && echo kept')).stdout).toBe('kept\n');
    expectOk(await pause(sb.id));
    await api.delete(sb.id);
    expect((await api.query('io.pocketenv.sandbox.getSandbox', { id: sb.id })).body.sandbox ?? null).toBeNull();
    expect(await readFile(`/sys/fs/cgroup/freezer/pocketenv/${sb.id}/freezer.state`, 'utf8').catch(() => 'gone')).toBe('gone');
  });

  it('answers a preview request on a paused sandbox once it is resumed (the app started before the pause)', async () => {
    const sb = await api.create({ name: 'pause-preview' });
    await startPreviewApp(api, sb.id, 9000);
    const previewUrl = expectOk(await api.procedure('io.pocketenv.sandbox.exposePort', { id: sb.id }, { port: 9000 })).previewUrl;
    const first = await fetchPreview(`${previewUrl}before`);
    expect(first.status).toBe(200);
    expectOk(await pause(sb.id));
    const answer = await fetchPreview(`${previewUrl}after-pause`);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ path: '/after-pause' });
    expect((await api.get(sb.id)).paused).toBeUndefined();
  });

  it('someone else’s sandbox is not found', async () => {
    const sb = await api.get('pause-counter');
    const unknown = await api.procedure('io.pocketenv.sandbox.pauseSandbox', { id: 'no-such-sandbox' }, {});
    expect(unknown.status).toBe(404);
    expect(sb.status).toBe('RUNNING');
  });
});
