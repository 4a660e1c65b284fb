/**
 * The server as a real process (the compiled `node dist/main.js`): killed with -9 in the
 * middle of a create and of a start, then restarted on the same data directory. Every
 * sandbox must then have a true status and nothing may be left on the host without a
 * record. Also: SIGTERM lets an in-flight request finish and leaves sandboxes running.
 *
 * The kill points come from the server's own log lines ("sandbox.transition" with
 * step provider.create / provider.start), which it writes just before calling the provider.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, ServerProcess, expectOk, hostObjects, mountsUnder, readOwnerToken, runFixture, vethExists } from './helpers';

let dataDir: string;
let proc: ServerProcess | undefined;
let api: Api;

async function restart(): Promise<void> {
  proc = await ServerProcess.start(dataDir);
  api = new Api(proc.url, await readOwnerToken(dataDir));
}

/** Runs a provider operation on the state dir as another process (the server must be down). */
function behindTheServersBack(op: 'orphan' | 'stop' | 'delete', id: string): Promise<string> {
  return runFixture('provider', [path.join(dataDir, 'runtime', 'local'), op, id]);
}

async function allSandboxes(): Promise<any[]> {
  return expectOk(await api.query('io.pocketenv.sandbox.getSandboxes', { limit: 100 })).sandboxes;
}

/** Every host object belongs to a record; only RUNNING records have a container or mounts. */
async function expectNoOrphans(): Promise<void> {
  const records = await allSandboxes();
  const ids = new Set(records.map((r) => r.id));
  const host = await hostObjects(dataDir);
  for (const id of [...host.stateDirs, ...host.containers, ...host.mounted]) {
    expect(ids, `host object ${id} has no record`).toContain(id);
  }
  for (const r of records) {
    if (r.status === 'RUNNING') continue;
    expect(host.containers, `${r.name} is ${r.status} but has a container`).not.toContain(r.id);
    expect(host.mounted, `${r.name} is ${r.status} but is mounted`).not.toContain(r.id);
    expect(await vethExists(r.id), `${r.name} is ${r.status} but has a veth`).toBe(false);
  }
}

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-crash-'));
  await restart();
});

afterAll(async () => {
  try {
    if (proc) {
      for (const sb of await allSandboxes().catch(() => [])) await api.delete(sb.id).catch(() => undefined);
      await proc.kill('SIGTERM');
    }
    expect(await mountsUnder(dataDir)).toEqual([]);
  } finally {
    if ((await mountsUnder(dataDir)).length === 0) await fs.rm(dataDir, { recursive: true, force: true });
  }
});

describe('kill -9', () => {
  it('during create: after a restart the sandbox is ERROR with the reason, nothing is orphaned, and start recovers it', async () => {
    const pending = api.procedure('io.pocketenv.sandbox.createSandbox', undefined, { base: 'debian', name: 'crash-create' }).catch((err: unknown) => err);
    await proc!.waitForLog((l) => l.msg === 'sandbox.transition' && l.step === 'provider.create');
    expect((await proc!.kill('SIGKILL')).signal).toBe('SIGKILL');
    expect(await pending).toBeInstanceOf(Error);

    await restart();
    const sb = (await allSandboxes()).find((s) => s.name === 'crash-create');
    expect(sb).toBeDefined();
    expect(sb.status).toBe('ERROR');
    expect(sb.error).toMatch(/interrupted by a server restart/);
    await expectNoOrphans();

    await api.start(sb.id);
    expect((await api.get(sb.id)).status).toBe('RUNNING');
    expect((await api.exec(sb.id, 'echo alive')).stdout).toBe('alive\n');
    await expectNoOrphans();
  });

  it('during start: after a restart the status is true, files survive, and start works again', async () => {
    const sb = await api.create({ name: 'crash-start' });
    await api.exec(sb.id, 'echo survives > /workspace/keep.txt');
    await api.stop(sb.id);

    const mark = proc!.logs.length;
    const pending = api.procedure('io.pocketenv.sandbox.startSandbox', { id: sb.id }, {}).catch((err: unknown) => err);
    await proc!.waitForLog((l) => l.msg === 'sandbox.transition' && l.step === 'provider.start' && l.sandbox === sb.id, mark);
    await proc!.kill('SIGKILL');
    await pending;

    await restart();
    const after = await api.get(sb.id);
    // Killed mid-start it is ERROR (start interrupted); if the start had just completed it is RUNNING.
    // Either way it is never INITIALIZING, and the record matches the host.
    expect(['ERROR', 'RUNNING']).toContain(after.status);
    if (after.status === 'ERROR') expect(after.error).toMatch(/start was interrupted/);
    await expectNoOrphans();

    await api.start(sb.id);
    expect((await api.exec(sb.id, 'cat /workspace/keep.txt')).stdout).toBe('survives\n');
  });

  it('with running sandboxes: they are still RUNNING and usable after the restart', async () => {
    const sb = await api.create({ name: 'crash-running', keepAlive: true });
    await proc!.kill('SIGKILL');
    await restart();
    expect((await api.get(sb.id)).status).toBe('RUNNING');
    expect((await api.exec(sb.id, 'echo ok')).stdout).toBe('ok\n');
    const statuses = (await allSandboxes()).map((s) => s.status);
    expect(statuses).not.toContain('INITIALIZING');
    await expectNoOrphans();
  });
});

/** Whether the kernel has the sandbox's processes frozen (cgroup v1 freezer, or v2 cgroup.freeze). */
async function frozen(id: string): Promise<boolean> {
  const v1 = await fs.readFile(`/sys/fs/cgroup/freezer/pocketenv/${id}/freezer.state`, 'utf8').catch(() => undefined);
  if (v1 !== undefined) return v1.trim() !== 'THAWED';
  return (await fs.readFile(`/sys/fs/cgroup/pocketenv/${id}/cgroup.freeze`, 'utf8').catch(() => '0')).trim() === '1';
}

describe('kill -9 and paused sandboxes', () => {
  it('while paused: after a restart it is still paused (frozen), and exec resumes it with its processes', async () => {
    const sb = await api.create({ name: 'crash-paused' });
    await api.exec(sb.id, 'nohup sleep 3601 >/dev/null 2>&1 &');
    expect(expectOk(await api.procedure('io.pocketenv.sandbox.pauseSandbox', { id: sb.id }, {})).paused).toBe(true);
    await proc!.kill('SIGKILL');
    await restart();
    expect(await api.get(sb.id)).toMatchObject({ status: 'RUNNING', paused: true });
    expect(await frozen(sb.id)).toBe(true);
    await expectNoOrphans();
    expect((await api.exec(sb.id, `ps -eo args= | grep -c '^sleep 3601$' || true`)).stdout).toBe('1\n');
    expect(await frozen(sb.id)).toBe(false);
    expect((await api.get(sb.id)).paused).toBeUndefined();
  });

  it('during pause and resume: after a restart the record says what the kernel does', async () => {
    const sb = await api.create({ name: 'crash-pausing' });
    const since = proc!.logs.length;
    const pausing = api.procedure('io.pocketenv.sandbox.pauseSandbox', { id: sb.id }, {}).catch((err: unknown) => err);
    await proc!.waitForLog((l) => l.msg === 'sandbox.transition' && l.step === 'provider.pause' && l.sandbox === sb.id, since);
    await proc!.kill('SIGKILL');
    await pausing;
    await restart();
    const afterPause = await api.get(sb.id);
    expect(afterPause.status).toBe('RUNNING');
    expect(afterPause.paused === true).toBe(await frozen(sb.id));

    expect(expectOk(await api.procedure('io.pocketenv.sandbox.pauseSandbox', { id: sb.id }, {})).paused).toBe(true);
    const since2 = proc!.logs.length;
    const resuming = api.procedure('io.pocketenv.sandbox.resumeSandbox', { id: sb.id }, {}).catch((err: unknown) => err);
    await proc!.waitForLog((l) => l.msg === 'sandbox.transition' && l.step === 'provider.resume' && l.sandbox === sb.id, since2);
    await proc!.kill('SIGKILL');
    await resuming;
    await restart();
    // The resume was recorded before it was done: reconciliation finishes it.
    expect((await api.get(sb.id)).paused).toBeUndefined();
    expect(await frozen(sb.id)).toBe(false);
    expect((await api.exec(sb.id, 'echo awake')).stdout).toBe('awake\n');
    await expectNoOrphans();
  });

  it('mid-fork: after a restart the source runs (not frozen), the fork is ERROR or complete, nothing is orphaned', async () => {
    const source = await api.create({ name: 'crash-fork-source' });
    await api.exec(source.id, 'head -c 32M /dev/urandom > /root/blob && nohup sleep 3603 >/dev/null 2>&1 &');
    const since = proc!.logs.length;
    const forking = api.procedure('io.pocketenv.sandbox.forkSandbox', { id: source.id }, { name: 'crash-fork-copy' }).catch((err: unknown) => err);
    await proc!.waitForLog((l) => l.msg === 'sandbox.transition' && l.step === 'provider.fork', since);
    await proc!.kill('SIGKILL');
    await forking;
    await restart();
    expect(await api.get(source.id)).toMatchObject({ status: 'RUNNING' });
    expect(await frozen(source.id)).toBe(false);
    expect((await api.exec(source.id, `ps -eo args= | grep -c '^sleep 3603$' || true`)).stdout).toBe('1\n');
    const copy = (await allSandboxes()).find((s) => s.name === 'crash-fork-copy');
    if (copy) {
      expect(copy.status).toBe('ERROR');
      expect(copy.error).toMatch(/interrupted by a server restart/);
    }
    await expectNoOrphans();
    if (copy) await api.delete(copy.id);
    await expectNoOrphans();
  });

  it('deleting a paused sandbox frees everything', async () => {
    const sb = await api.create({ name: 'crash-paused-delete' });
    expectOk(await api.procedure('io.pocketenv.sandbox.pauseSandbox', { id: sb.id }, {}));
    await api.delete(sb.id);
    const host = await hostObjects(dataDir);
    expect([...host.stateDirs, ...host.containers, ...host.mounted]).not.toContain(sb.id);
    expect(await vethExists(sb.id)).toBe(false);
    expect(await fs.stat(`/sys/fs/cgroup/freezer/pocketenv/${sb.id}`).then(() => 'left', () => 'gone')).toBe('gone');
  });
});

describe('changes made while the server was down', () => {
  it('a RUNNING sandbox that was stopped meanwhile is STOPPED after the restart', async () => {
    const sb = await api.create({ name: 'stopped-behind', keepAlive: true });
    await proc!.kill('SIGKILL');
    await behindTheServersBack('stop', sb.id);
    await restart();
    expect((await api.get(sb.id)).status).toBe('STOPPED');
    await expectNoOrphans();
    await api.start(sb.id);
    expect((await api.exec(sb.id, 'echo back')).stdout).toBe('back\n');
    await api.delete(sb.id);
  });

  it('a sandbox whose files vanished is ERROR saying so, and start creates it afresh', async () => {
    const sb = await api.create({ name: 'vanished', keepAlive: true });
    await api.exec(sb.id, 'touch /workspace/old-file');
    await proc!.kill('SIGKILL');
    await behindTheServersBack('delete', sb.id);
    await restart();
    const after = await api.get(sb.id);
    expect(after.status).toBe('ERROR');
    expect(after.error).toMatch(/gone from the provider/);
    await expectNoOrphans();
    await api.start(sb.id);
    expect((await api.exec(sb.id, 'ls -A /workspace')).stdout).toBe('');
    await api.delete(sb.id);
  });

  it('a provider sandbox that has no record is deleted when the server starts', async () => {
    await proc!.kill('SIGKILL');
    const orphan = 'sbx_orphanMadeByTest';
    expect(await behindTheServersBack('orphan', orphan)).toBe('orphan done\n');
    expect((await hostObjects(dataDir)).containers).toContain(orphan);
    expect(await vethExists(orphan)).toBe(true);

    await restart();
    expect(proc!.logs.some((l) => l.msg.includes('orphan') && l.sandbox === orphan)).toBe(true);
    const host = await hostObjects(dataDir);
    expect(host.stateDirs).not.toContain(orphan);
    expect(host.containers).not.toContain(orphan);
    expect(host.mounted).not.toContain(orphan);
    expect(await vethExists(orphan)).toBe(false);
    await expectNoOrphans();
  });
});

describe('SIGTERM', () => {
  it('lets an in-flight exec finish, exits 0, and keeps sandboxes running', async () => {
    const sb = (await allSandboxes()).find((s) => s.name === 'crash-running');
    const mark = proc!.logs.length;
    const inFlight = api.exec(sb.id, 'sleep 2; echo finished');
    await proc!.waitForLog((l) => l.msg === 'sandbox.exec' && l.sandbox === sb.id, mark);
    const exited = proc!.kill('SIGTERM');
    expect((await inFlight).stdout).toBe('finished\n');
    expect((await exited).code).toBe(0);

    await restart();
    expect((await api.get(sb.id)).status).toBe('RUNNING');
    await expectNoOrphans();
  });

  it('stops running sandboxes when POCKETENV_STOP_ON_EXIT=1', async () => {
    const sb = (await allSandboxes()).find((s) => s.name === 'crash-running');
    await proc!.kill('SIGTERM');
    proc = await ServerProcess.start(dataDir, { POCKETENV_STOP_ON_EXIT: '1' });
    api = new Api(proc.url, await readOwnerToken(dataDir));
    expect((await api.get(sb.id)).status).toBe('RUNNING');
    expect((await proc.kill('SIGTERM')).code).toBe(0);

    await restart();
    expect((await api.get(sb.id)).status).toBe('STOPPED');
    await expectNoOrphans();
  });
});
