/**
 * createBackup / getBackups / restoreBackup through a real server and real sandboxes:
 * backup → delete → restore gives the same tree; restore into another sandbox; a backup
 * outlives its sandbox; expiry hides a backup at once and the sweeper deletes its file.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { startTestServer } from '@pocketenv/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { differentialCorpus, judge } from '../../sdk/test/support/differential-corpus';
import { Api, expectOk, waitFor } from './helpers';

/** Every entry of a directory tree with its type, mode, size, link target and content hash. */
const FINGERPRINT = (dir: string) =>
  `cd ${dir} && find . -printf '%p %y %m %s %l\\n' | LC_ALL=C sort && find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2`;

describe('backups', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let alice: Api;
  let bob: Api;
  let a: string;
  let b: string;

  beforeAll(async () => {
    // A fast sweep so the expiry test does not wait a minute; nothing else depends on it.
    const saved = process.env.POCKETENV_EXPIRY_SWEEP_INTERVAL;
    process.env.POCKETENV_EXPIRY_SWEEP_INTERVAL = '200ms';
    try {
      server = await startTestServer();
    } finally {
      if (saved === undefined) delete process.env.POCKETENV_EXPIRY_SWEEP_INTERVAL;
      else process.env.POCKETENV_EXPIRY_SWEEP_INTERVAL = saved;
    }
    alice = new Api(server.url, (await server.createActor('alice')).token);
    bob = new Api(server.url, (await server.createActor('bob')).token);
    [a, b] = await Promise.all([alice.create({ name: 'backup-a' }).then((s) => s.id), alice.create({ name: 'backup-b' }).then((s) => s.id)]);
    await sh(a, [
      'mkdir -p /workspace/proj/src/deep /workspace/proj/empty /workspace/proj/venv/bin',
      'head -c 200000 /dev/urandom > /workspace/proj/data.bin',
      'printf "console.log(1)\\n" > /workspace/proj/src/deep/index.js',
      'printf "#!/bin/sh\\necho hi\\n" > /workspace/proj/run.sh && chmod 750 /workspace/proj/run.sh',
      'ln -s src/deep/index.js /workspace/proj/main.js',
      // A link out of the directory, as in a Python venv: kept as a link by a backup.
      'ln -s /usr/bin/env /workspace/proj/venv/bin/python',
      'ln /workspace/proj/data.bin /workspace/proj/data-hardlink.bin',
    ].join(' && '));
  });
  afterAll(async () => {
    await server?.close();
  });

  async function sh(id: string, command: string, api = alice): Promise<string> {
    const result = await api.exec(id, command);
    expect(result.exitCode, `${command}\n${result.stderr}`).toBe(0);
    return result.stdout as string;
  }
  const create = (id: string, body: Record<string, unknown>, api = alice) => api.procedure('io.pocketenv.sandbox.createBackup', { id }, body);
  const list = (id: string, api = alice) => api.query('io.pocketenv.sandbox.getBackups', { id });
  const restore = (body: Record<string, unknown>, api = alice) => api.procedure('io.pocketenv.sandbox.restoreBackup', undefined, body);

  it('backup, delete the directory, restore: the tree is identical, and later files are gone', async () => {
    const before = await sh(a, FINGERPRINT('/workspace/proj'));
    const made = expectOk(await create(a, { directory: '/workspace/proj', description: 'first' }));
    expect(made.id).toMatch(/^bkp_/);
    // Default lifetime: 3 days.
    const lifetime = Date.parse(made.expiresAt) - Date.now();
    expect(lifetime).toBeGreaterThan(3 * 86_400_000 - 600_000);
    expect(lifetime).toBeLessThanOrEqual(3 * 86_400_000);

    await sh(a, 'rm -rf /workspace/proj');
    expectOk(await restore({ backupId: made.id }));
    expect(await sh(a, FINGERPRINT('/workspace/proj'))).toBe(before);

    await sh(a, 'echo later > /workspace/proj/later.txt && rm /workspace/proj/run.sh');
    expectOk(await restore({ backupId: made.id }));
    expect(await sh(a, FINGERPRINT('/workspace/proj'))).toBe(before);
  });

  it('restores into another of the caller’s sandboxes, not into anyone else’s', async () => {
    const made = expectOk(await create(a, { directory: '/workspace/proj' }));
    expectOk(await restore({ backupId: made.id, id: 'backup-b' }));
    expect(await sh(b, FINGERPRINT('/workspace/proj'))).toBe(await sh(a, FINGERPRINT('/workspace/proj')));

    // Bob sees neither the backups nor the sandboxes.
    expect(await list(a, bob)).toMatchObject({ status: 404, body: { error: 'SandboxNotFound' } });
    expect(await restore({ backupId: made.id }, bob)).toMatchObject({ status: 404, body: { error: 'NotFound' } });
    const bobBox = (await bob.create({ name: 'bob-box' })).id;
    expect(await restore({ backupId: made.id, id: bobBox }, bob)).toMatchObject({ status: 404, body: { error: 'NotFound' } });
    expect(await restore({ backupId: made.id, id: bobBox })).toMatchObject({ status: 404, body: { error: 'SandboxNotFound' } });
  });

  it('lists a sandbox’s backups newest first, with description, directory and expiry', async () => {
    const one = expectOk(await create(a, { directory: '/workspace/proj/src', description: 'sources', ttl: 600 }));
    const { backups, total } = expectOk(await list(a));
    expect(total).toBe(backups.length);
    expect(backups[0]).toMatchObject({ id: one.id, sandboxId: a, directory: '/workspace/proj/src', description: 'sources', expiresAt: one.expiresAt });
    expect(backups[0].sizeBytes).toBeGreaterThan(0);
    const created = backups.map((x: { createdAt: string }) => x.createdAt);
    expect([...created].sort().reverse()).toEqual(created);
    expect(expectOk(await list(b)).backups).toEqual([]);
  });

  it('a backup outlives its sandbox and can be restored elsewhere', async () => {
    const c = (await alice.create({ name: 'backup-c' })).id;
    await sh(c, 'mkdir -p /srv/keep && echo precious > /srv/keep/file');
    const made = expectOk(await create(c, { directory: '/srv/keep' }));
    expectOk(await alice.procedure('io.pocketenv.sandbox.deleteSandbox', { id: c }, {}));

    const orphan = await restore({ backupId: made.id });
    expect(orphan).toMatchObject({ status: 400 });
    expect(orphan.body.message).toMatch(/^id: /);
    expectOk(await restore({ backupId: made.id, id: b }));
    expect(await sh(b, 'cat /srv/keep/file')).toBe('precious\n');
  });

  it('restores a volume’s mount point in place (it cannot be swapped, so its contents are replaced)', async () => {
    expectOk(await alice.procedure('io.pocketenv.volume.addVolume', undefined, { volume: { sandboxId: b, name: 'backup-vol', path: '/data' } }));
    expectOk(await alice.procedure('io.pocketenv.sandbox.stopSandbox', { id: b }, {}));
    expectOk(await alice.procedure('io.pocketenv.sandbox.startSandbox', { id: b }, {}));
    await sh(b, 'mountpoint -q /data && mkdir -p /data/sub && echo one > /data/sub/one.txt');
    const before = await sh(b, FINGERPRINT('/data'));
    const made = expectOk(await create(b, { directory: '/data' }));

    await sh(b, 'echo later > /data/later.txt && rm -r /data/sub');
    expectOk(await restore({ backupId: made.id }));
    expect(await sh(b, FINGERPRINT('/data'))).toBe(before);
    await sh(b, 'mountpoint -q /data');
  });

  it('an expired backup is gone at once, and the sweeper deletes its file', async () => {
    const made = expectOk(await create(b, { directory: '/srv/keep', ttl: 1 }));
    const file = path.join(server.dataDir, 'backups', `${made.id}.tar.gz`);
    await waitFor('the backup to expire', async () => (Date.now() > Date.parse(made.expiresAt) + 50 ? true : undefined), 10_000, 100);
    expect(expectOk(await list(b)).backups.map((x: { id: string }) => x.id)).not.toContain(made.id);
    expect(await restore({ backupId: made.id })).toMatchObject({ status: 404, body: { error: 'NotFound' } });
    await waitFor('the sweeper to delete the file', async () => ((await fs.stat(file).catch(() => undefined)) ? undefined : true), 20_000, 100);
  });

  it('differential: a sandbox whose tar packs crafted archives gets a 400, or the restore unpacks exactly the names the check approved', async () => {
    const m = randomBytes(5).toString('hex');
    const box = (await alice.create({ name: 'backup-crafty' })).id;
    // The sandbox is hostile to itself: its "tar" answers every pack with a crafted archive
    // (and unpacks with the real GNU tar).
    await sh(box, [
      `printf '%s\\n' '#!/bin/sh' 'if [ "$1" = -czf ]; then exec cat /tmp/crafted.tar.gz; fi' 'exec /usr/bin/tar "$@"' > /usr/local/bin/tar`,
      'chmod 755 /usr/local/bin/tar && mkdir -p /workspace/bk && : > /tmp/crafted.tar.gz && touch /tmp/.before-differential',
    ].join(' && '));
    let restored = 0;
    for (const [i, c] of differentialCorpus(m).entries()) {
      const verdict = await judge(c.tar, 'any-target');
      await sh(box, `mkdir -p /workspace/bk/${i} && echo ${gzipSync(c.tar).toString('base64')} | base64 -d > /tmp/crafted.tar.gz`);
      const made = await create(box, { directory: `/workspace/bk/${i}` });
      if ('refused' in verdict) {
        expect(made, c.name).toMatchObject({ status: 400, body: { error: 'InvalidRequest', message: expect.stringContaining(verdict.refused.message) } });
        expect(c.verdict, `${c.name}: refused (${verdict.refused.message})`).toBe('refused');
        continue;
      }
      restored++;
      expect(made.status, `${c.name}: ${JSON.stringify(made.body)}`).toBe(200);
      expectOk(await restore({ backupId: made.body.id }));
      const listing = await sh(box, `cd /workspace/bk/${i} && find . -mindepth 1 -printf '%P\\0'`);
      expect(listing.split('\0').filter(Boolean).sort(), c.name).toEqual(verdict.names);
      expect(c.verdict, c.name).toBe('unpacked');
    }
    expect(restored).toBeGreaterThan(10);
    // Nothing was written anywhere else in the sandbox.
    expect(await sh(box, "find / -xdev -newer /tmp/.before-differential -not -path '/workspace/bk*' -not -path /tmp/crafted.tar.gz -print")).toBe('');
    expect(await sh(box, `find / -xdev -name '*${m}*' -not -path '/workspace/bk/*' -print`)).toBe('');
    expectOk(await alice.procedure('io.pocketenv.sandbox.deleteSandbox', { id: box }, {}));
  }, 600_000);

  it('checks its inputs', async () => {
    expect((await create(a, { directory: 'relative' })).body.message).toMatch(/^directory: /);
    expect((await create(a, { directory: '/' })).body.message).toMatch(/^directory: /);
    expect((await create(a, { directory: '/workspace/none' })).body.message).toMatch(/does not exist/);
    expect((await create(a, { directory: '/etc/hostname' })).body.message).toMatch(/not a directory/);
    expect(await create(a, { directory: '/workspace', ttl: 400 * 86_400 })).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^ttl: /) } });
    expect(await restore({ backupId: 'bkp_nope' })).toMatchObject({ status: 404, body: { error: 'NotFound' } });
    expectOk(await alice.procedure('io.pocketenv.sandbox.stopSandbox', { id: a }, {}));
    expect(await create(a, { directory: '/workspace' })).toMatchObject({ status: 400, body: { message: expect.stringContaining('not RUNNING') } });
  });
});
