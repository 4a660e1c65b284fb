/**
 * forkSandbox: a new sandbox of the same owner whose files are a copy of the source's at that
 * instant; the source keeps running (its processes too), the two are independent afterwards,
 * and a stopped sandbox can be forked as well.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing';
import { Api, expectOk } from './helpers';

let server: TestServer;
let api: Api;

beforeAll(async () => {
  server = await startTestServer({ idleTimeoutMs: 0 });
  api = new Api(server.url, server.ownerToken);
});

afterAll(async () => {
  await server?.close();
});

const fork = (id: string, body: Record<string, unknown> = {}) => api.procedure('io.pocketenv.sandbox.forkSandbox', { id }, body);

describe('fork', () => {
  it('copies the files written before the fork; the source keeps running with its processes; the two are independent', async () => {
    const source = await api.create({ name: 'fork-source' });
    // Written just before the fork and not synced by the caller: the fork must still see all of it.
    await api.exec(source.id, 'head -c 64M /dev/urandom > /root/blob && sha256sum /root/blob > /root/blob.sum && echo before > /workspace/marker');
    await api.exec(source.id, 'nohup sleep 3602 >/dev/null 2>&1 &');

    const copy = expectOk(await fork(source.id, { name: 'fork-copy' }));
    expect(copy).toMatchObject({ name: 'fork-copy', status: 'RUNNING', baseSandbox: source.baseSandbox, vcpus: source.vcpus, memory: source.memory, disk: source.disk });
    expect(copy.id).not.toBe(source.id);

    expect((await api.exec(copy.id, 'cat /workspace/marker && sha256sum -c /root/blob.sum')).stdout).toBe('before\n/root/blob: OK\n');
    expect((await api.exec(copy.id, 'hostname')).stdout).toBe('fork-copy\n');
    // The source was not restarted: its process is still there, and it is not left paused.
    expect((await api.exec(source.id, `ps -eo args= | grep -c '^sleep 3602$' || true`)).stdout).toBe('1\n');
    expect((await api.get(source.id)).paused).toBeUndefined();
    // The fork has the files, not the processes.
    expect((await api.exec(copy.id, `ps -eo args= | grep -c '^sleep 3602$' || true`)).stdout).toBe('0\n');

    await api.exec(copy.id, 'echo fork-only > /workspace/marker');
    await api.exec(source.id, 'echo source-only > /workspace/other');
    expect((await api.exec(source.id, 'cat /workspace/marker')).stdout).toBe('before\n');
    expect((await api.exec(copy.id, 'test -e /workspace/other && echo leaked || echo separate')).stdout).toBe('separate\n');
  });

  it('forks a stopped sandbox, and deleting the source leaves the fork intact', async () => {
    const source = await api.create({ name: 'fork-stopped' });
    await api.exec(source.id, 'echo kept > /workspace/f');
    await api.stop(source.id);
    const copy = expectOk(await fork(source.id));
    expect(copy.status).toBe('RUNNING');
    expect((await api.get(source.id)).status).toBe('STOPPED');
    await api.delete(source.id);
    expect((await api.exec(copy.id, 'cat /workspace/f')).stdout).toBe('kept\n');
  });

  it('refuses a name already taken (409) and an unknown sandbox (404)', async () => {
    const taken = await fork('fork-copy', { name: 'fork-source' });
    expect(taken.status).toBe(409);
    expect((await fork('no-such-sandbox')).status).toBe(404);
  });
});
