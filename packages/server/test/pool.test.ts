/**
 * The warm pool (src/pool): a create takes a prepared sandbox and binds it to the caller
 * (hostname, env), pooled sandboxes are invisible to every API, and none is left behind
 * after a graceful shutdown or a kill -9 and restart. Servers run as child processes so
 * POCKETENV_POOL_SIZE applies to them only and kill -9 is real.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, ServerProcess, expectOk, hostObjects, readOwnerToken } from './helpers';

let dataDir: string;
let proc: ServerProcess | undefined;
let api: Api;

async function startServer(poolSize: number, env: Record<string, string> = {}): Promise<void> {
  proc = await ServerProcess.start(dataDir, { POCKETENV_POOL_SIZE: String(poolSize), ...env });
  api = new Api(proc.url, await readOwnerToken(dataDir));
}

/** Ids of the sandboxes the pool announced as ready since log line `since`. */
async function nextPooled(since = 0): Promise<string> {
  const line = await proc!.waitForLog((l) => l.msg === 'pool.ready', since);
  return line.sandbox as string;
}

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-pool-'));
});

afterAll(async () => {
  // Clean up with the pool off, whatever state the tests left.
  if (proc) await proc.kill('SIGKILL');
  await startServer(0);
  const all = expectOk(await api.query('io.pocketenv.sandbox.getSandboxes', { limit: 100 })).sandboxes as { id: string }[];
  for (const sb of all) await api.delete(sb.id);
  await proc!.kill('SIGTERM');
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe('warm pool', () => {
  let boundId = '';

  it('hands a prepared sandbox to a create, with the caller’s hostname and env, and refills', async () => {
    await startServer(1);
    const pooledId = await nextPooled();
    expect((await hostObjects(dataDir)).containers).toEqual([pooledId]);

    // Nobody can see or reach it.
    expect(expectOk(await api.query('io.pocketenv.sandbox.getSandboxes', { limit: 100 })).total).toBe(0);
    expect(await api.get(pooledId)).toBeNull();
    expect((await api.procedure('io.pocketenv.sandbox.exec', { id: pooledId }, { command: 'true' })).status).toBe(404);
    expect((await api.procedure('io.pocketenv.sandbox.deleteSandbox', { id: pooledId }, {})).status).toBe(404);

    const since = proc!.logs.length;
    const created = await api.create({ name: 'pool-bound', envs: [{ name: 'POOL_VAR', value: 'from-create' }] });
    expect(created.id).toBe(pooledId);
    expect(created.status).toBe('RUNNING');
    boundId = created.id;
    const r = await api.exec(created.id, 'hostname; cat /etc/hostname; echo "$HOSTNAME"; grep -c pool-bound /etc/hosts; echo "$POOL_VAR"');
    expect(r.stdout).toBe('pool-bound\npool-bound\npool-bound\n1\nfrom-create\n');

    // The pool makes a new one; the bound sandbox is the caller's only one.
    const refilled = await nextPooled(since);
    expect(refilled).not.toBe(pooledId);
    const mine = expectOk(await api.query('io.pocketenv.sandbox.getSandboxes', { limit: 100 }));
    expect(mine.total).toBe(1);
    expect(mine.sandboxes[0].name).toBe('pool-bound');

    // The name survives a reboot of the bound sandbox.
    await api.stop(created.id);
    await api.start(created.id);
    expect((await api.exec(created.id, 'hostname; echo "$POOL_VAR"')).stdout).toBe('pool-bound\nfrom-create\n');
  });

  it('deletes its idle sandboxes on a graceful shutdown', async () => {
    expect((await hostObjects(dataDir)).containers.length).toBe(2); // bound + refilled
    expect((await proc!.kill('SIGTERM')).code).toBe(0);
    const left = await hostObjects(dataDir);
    expect(left.containers).toEqual([boundId]);
    expect(left.stateDirs).toEqual([boundId]);
    proc = undefined;
  });

  it('leaves nothing behind after kill -9: the restarted server removes the pooled orphans', async () => {
    await startServer(1);
    const pooledId = await nextPooled();
    expect((await proc!.kill('SIGKILL')).signal).toBe('SIGKILL');
    expect((await hostObjects(dataDir)).containers).toContain(pooledId);

    await startServer(0);
    const after = await hostObjects(dataDir);
    expect(after.containers).toEqual([boundId]);
    expect(after.stateDirs).toEqual([boundId]);
    expect((await api.get(boundId)).status).toBe('RUNNING');
  });

  it('grows with demand: after a burst drained it, the next burst of creates is served warm', async () => {
    await proc!.kill('SIGTERM');
    await startServer(1, { POCKETENV_POOL_MAX: '3' });
    await nextPooled();
    const pooledIds = () => new Set(proc!.logs.filter((l) => l.msg === 'pool.ready').map((l) => l.sandbox as string));

    // Three creates at once: one is served warm, the others find the pool empty while it
    // refills, so it grows to three (one, plus two per create that outpaced it; at most three).
    await Promise.all([0, 1, 2].map((i) => api.create({ name: `burst-a${i}` })));
    await proc!.waitForLog((l) => l.msg === 'pool.ready' && l.idle === 3 && l.target === 3);

    // So the next burst of three is served entirely from the pool, each bound to its caller.
    const second = await Promise.all([0, 1, 2].map((i) => api.create({ name: `burst-b${i}` })));
    const warm = pooledIds();
    for (const [i, created] of second.entries()) {
      expect(warm.has(created.id)).toBe(true);
      expect(created.status).toBe('RUNNING');
      expect((await api.exec(created.id, 'hostname')).stdout).toBe(`burst-b${i}\n`);
    }
  });
});
