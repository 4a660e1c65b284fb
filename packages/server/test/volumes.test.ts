/**
 * Volumes through a real server and real sandboxes: data written in one sandbox survives
 * stop/start and the deletion of the sandbox, and is there when the same volume (by name) is
 * attached to another one; read-only mounts; deleting the data is explicit (409 while
 * attached); mount paths are checked, and a symlink inside the sandbox cannot make a mount
 * land on the host; another actor gets 404 everywhere.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing';
import { Api, expectOk } from './helpers';

let server: TestServer;
let api: Api;

async function addVolume(sandboxId: string, name: string, path: string, readOnly?: boolean): Promise<any> {
  return expectOk(await api.procedure('io.pocketenv.volume.addVolume', undefined, { volume: { sandboxId, name, path, ...(readOnly ? { readOnly } : {}) } })).volume;
}

async function restart(sandboxId: string): Promise<void> {
  await api.stop(sandboxId);
  await api.start(sandboxId);
}

async function volumeData(as = api): Promise<any[]> {
  return expectOk(await as.query('io.pocketenv.volume.getVolumeData')).volumes;
}

beforeAll(async () => {
  server = await startTestServer();
  api = new Api(server.url, server.ownerToken);
});

afterAll(async () => {
  await server?.close();
});

describe('a named volume', () => {
  it('keeps its data across stop/start and the deletion of its sandbox, and mounts it in the next sandbox', async () => {
    const first = await api.create({ name: 'vol-writer' });
    const attached = await addVolume(first.name, 'project-data', '/data');
    expect(attached).toMatchObject({ sandboxId: first.id, name: 'project-data', path: '/data', readOnly: false });
    expect(attached.id).toMatch(/^vol_/);

    // Attached to a running sandbox: mounted from its next start on.
    expect((await api.exec(first.id, 'mountpoint -q /data && echo mounted || echo not-yet')).stdout).toBe('not-yet\n');
    await restart(first.id);
    const write = await api.exec(first.id, 'echo "kept across sandboxes" > /data/note && mkdir -p /data/dir && echo deep > /data/dir/f && stat -c %u:%g /data/note');
    expect(write).toMatchObject({ exitCode: 0, stdout: '0:0\n' }); // the sandbox's root owns what it writes

    await restart(first.id);
    expect((await api.exec(first.id, 'cat /data/note')).stdout).toBe('kept across sandboxes\n');

    await api.delete(first.id);
    const [data] = await volumeData();
    expect(data).toMatchObject({ name: 'project-data', sandboxIds: [] });
    expect(data.sizeBytes).toBeGreaterThan(0);

    const second = await api.create({ name: 'vol-reader' });
    const again = await addVolume(second.id, 'project-data', '/mnt/shared', true);
    expect(again).toMatchObject({ name: 'project-data', path: '/mnt/shared', readOnly: true });
    await restart(second.id);
    expect((await api.exec(second.id, 'cat /mnt/shared/note /mnt/shared/dir/f')).stdout).toBe('kept across sandboxes\ndeep\n');
    const readOnly = await api.exec(second.id, 'echo nope > /mnt/shared/new');
    expect(readOnly.exitCode).not.toBe(0);
    expect(readOnly.stderr).toContain('Read-only file system');

    // Deleting the data is explicit, and refused while it is attached.
    const refused = await api.procedure('io.pocketenv.volume.deleteVolumeData', { name: 'project-data' }, {});
    expect(refused).toMatchObject({ status: 409, body: { error: 'Conflict' } });
    expect(refused.body.message).toContain(second.id);
    expectOk(await api.procedure('io.pocketenv.volume.deleteVolume', { id: again.id }, {}));
    expect(expectOk(await api.query('io.pocketenv.volume.getVolumes', { sandboxId: second.id }))).toEqual({ volumes: [], total: 0 });
    expect((await volumeData())[0]).toMatchObject({ name: 'project-data', sandboxIds: [] }); // detached, data kept
    expectOk(await api.procedure('io.pocketenv.volume.deleteVolumeData', { name: 'project-data' }, {}));
    expect(await volumeData()).toEqual([]);
    expect(await api.procedure('io.pocketenv.volume.deleteVolumeData', { name: 'project-data' }, {})).toMatchObject({ status: 404, body: { error: 'NotFound' } });

    // The name is free again: a new volume with it starts empty.
    const fresh = await addVolume(second.id, 'project-data', '/data');
    await restart(second.id);
    expect((await api.exec(second.id, 'ls -A /data | wc -l')).stdout.trim()).toBe('0');
    await api.delete(second.id);
    expectOk(await api.procedure('io.pocketenv.volume.deleteVolumeData', { name: 'project-data' }, {}));
    expect(fresh.id).not.toBe(again.id);
  });

  it('is listed, read and changed through its attachment', async () => {
    const sb = await api.create({ name: 'vol-crud' });
    const a = await addVolume(sb.id, 'cache', '/cache');
    const b = await addVolume(sb.id, 'logs', '/var/log/app');
    expect(expectOk(await api.query('io.pocketenv.volume.getVolumes', { sandboxId: sb.name }))).toMatchObject({ volumes: [{ id: b.id }, { id: a.id }], total: 2 });
    expect(expectOk(await api.query('io.pocketenv.volume.getVolumes', { limit: 1, offset: 1 }))).toMatchObject({ volumes: [{ id: a.id }], total: 2 });
    expect(expectOk(await api.query('io.pocketenv.volume.getVolume', { id: a.id })).volume).toEqual(a);

    expectOk(await api.procedure('io.pocketenv.volume.updateVolume', undefined, { id: a.id, volume: { path: '/srv/cache', readOnly: true } }));
    expect(expectOk(await api.query('io.pocketenv.volume.getVolume', { id: a.id })).volume).toMatchObject({ name: 'cache', path: '/srv/cache', readOnly: true });
    const taken = await api.procedure('io.pocketenv.volume.updateVolume', undefined, { id: a.id, volume: { path: '/var/log/app' } });
    expect(taken).toMatchObject({ status: 409, body: { error: 'Conflict' } });
    const duplicate = await api.procedure('io.pocketenv.volume.addVolume', undefined, { volume: { sandboxId: sb.id, name: 'other', path: '/srv/cache/' } });
    expect(duplicate).toMatchObject({ status: 409 });
    const renamedOnto = await api.procedure('io.pocketenv.volume.updateVolume', undefined, { id: b.id, volume: { name: 'renamed', path: '/srv/cache' } });
    expect(renamedOnto).toMatchObject({ status: 409 });
    expect((await volumeData()).map((v) => v.name).sort()).toEqual(['cache', 'logs']); // refused changes left no volume behind

    // Nested mounts work: the outer one is mounted first.
    expectOk(await api.procedure('io.pocketenv.volume.updateVolume', undefined, { id: a.id, volume: { path: '/var/log/app/cache', readOnly: false } }));
    await restart(sb.id);
    const nested = await api.exec(sb.id, 'echo outer > /var/log/app/o && echo inner > /var/log/app/cache/i && ls /var/log/app && mountpoint -q /var/log/app/cache && echo ok');
    expect(nested).toMatchObject({ exitCode: 0, stdout: 'cache\no\nok\n', stderr: '' });
    await api.delete(sb.id);
    expect(expectOk(await api.query('io.pocketenv.volume.getVolumes'))).toEqual({ volumes: [], total: 0 });
    expect((await volumeData()).map((v) => v.name).sort()).toEqual(['cache', 'logs']);
    for (const name of ['cache', 'logs']) expectOk(await api.procedure('io.pocketenv.volume.deleteVolumeData', { name }, {}));
  });
});

describe('mount paths', () => {
  let sb: any;
  beforeAll(async () => {
    sb = await api.create({ name: 'vol-paths' });
  });

  it('must be absolute, not /, not on /proc, /sys or /dev, without ..; names must be plain', async () => {
    const cases: Array<[string, string, string]> = [
      ['ok-name', 'relative/path', 'volume.path'],
      ['ok-name', '/', 'volume.path'],
      ['ok-name', '//', 'volume.path'],
      ['ok-name', '/proc/x', 'volume.path'],
      ['ok-name', '/sys', 'volume.path'],
      ['ok-name', '/dev/shm/x', 'volume.path'],
      ['ok-name', '/data/../etc', 'volume.path'],
      ['Bad_Name', '/data', 'volume.name'],
      ['../escape', '/data', 'volume.name'],
    ];
    for (const [name, path, field] of cases) {
      const reply = await api.procedure('io.pocketenv.volume.addVolume', undefined, { volume: { sandboxId: sb.id, name, path } });
      expect({ path, name, status: reply.status, error: reply.body.error }).toEqual({ path, name, status: 400, error: 'InvalidRequest' });
      expect(reply.body.message).toContain(field);
    }
    expect(expectOk(await api.query('io.pocketenv.volume.getVolumes', { sandboxId: sb.id })).total).toBe(0);
  });

  it('cannot be redirected onto the host by a symlink inside the sandbox', async () => {
    const target = `pocketenv-escape-${randomBytes(4).toString('hex')}`;
    expect(fs.existsSync(`/${target}`)).toBe(false);
    expect((await api.exec(sb.id, 'ln -s / /workspace/evil && readlink /workspace/evil')).stdout).toBe('/\n');
    await addVolume(sb.id, 'escape', `/workspace/evil/${target}`);
    await restart(sb.id);

    // The symlink is followed the way the sandbox sees it: to ITS root, not the host's.
    expect(fs.existsSync(`/${target}`)).toBe(false);
    const hostMounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]);
    expect(hostMounts).not.toContain(`/${target}`);
    const inside = await api.exec(sb.id, `mountpoint -q /${target} && echo mounted && echo x > /workspace/evil/${target}/marker && cat /${target}/marker`);
    expect(inside).toMatchObject({ exitCode: 0, stdout: 'mounted\nx\n' });
    expect(fs.existsSync(`/${target}`)).toBe(false);
  });
});

describe('another actor', () => {
  it('gets 404 from every volume method, sees none of the owner’s data, and changes nothing', async () => {
    const sb = await api.create({ name: 'vol-owned' });
    const mine = await addVolume(sb.id, 'secret-stuff', '/secret');
    const mallory = await server.createActor('mallory-volumes');
    const as = api.as(mallory.token);

    for (const key of [sb.id, sb.name]) {
      expect(await as.procedure('io.pocketenv.volume.addVolume', undefined, { volume: { sandboxId: key, name: 'secret-stuff', path: '/x' } })).toMatchObject({ status: 404, body: { error: 'SandboxNotFound' } });
      expect(await as.query('io.pocketenv.volume.getVolumes', { sandboxId: key })).toMatchObject({ status: 404, body: { error: 'SandboxNotFound' } });
    }
    const byId: Array<[string, 'GET' | 'POST', Record<string, string>, unknown]> = [
      ['getVolume', 'GET', { id: mine.id }, undefined],
      ['updateVolume', 'POST', {}, { id: mine.id, volume: { path: '/stolen' } }],
      ['deleteVolume', 'POST', { id: mine.id }, {}],
      ['deleteVolumeData', 'POST', { name: 'secret-stuff' }, {}],
    ];
    for (const [name, method, params, body] of byId) {
      const reply = await as.call(`io.pocketenv.volume.${name}`, method, { params, body });
      expect({ name, status: reply.status, error: reply.body?.error }).toEqual({ name, status: 404, error: 'NotFound' });
    }
    expect(expectOk(await as.query('io.pocketenv.volume.getVolumes'))).toEqual({ volumes: [], total: 0 });
    expect(await volumeData(as)).toEqual([]);

    expect(expectOk(await api.query('io.pocketenv.volume.getVolume', { id: mine.id })).volume).toEqual(mine);
    expect((await volumeData()).map((v) => v.name)).toContain('secret-stuff');
  });
});
