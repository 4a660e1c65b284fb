import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type ConnectedSandbox, pocketenv, sandbox } from '@pocketenv/sdk';
import { startTestServer } from '@pocketenv/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLocation } from '../src/commands/cp';
import { renderProgress } from '../src/output/progress';
import { runCli } from './run-cli';

describe('pocketenv cp and backup', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let env: Record<string, string>;
  let one: ConnectedSandbox;
  let two: ConnectedSandbox;
  let work: string;
  const cli = (...args: string[]) => runCli(args, env);
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

  beforeAll(async () => {
    server = await startTestServer();
    const alice = await server.createActor('alice');
    env = { POCKETENV_API_URL: server.url, POCKETENV_TOKEN: alice.token };
    const client = pocketenv.newClient(alice.token, { baseUrl: server.url });
    [one, two] = await Promise.all([sandbox.create(sandbox.new(client, 'cli-cp-one')), sandbox.create(sandbox.new(client, 'cli-cp-two'))]);
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-cli-cp-'));
  });
  afterAll(async () => {
    await server?.close();
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it('copies a directory up, back down, and across sandboxes', async () => {
    const src = path.join(work, 'app');
    await fs.mkdir(path.join(src, 'lib'), { recursive: true });
    const data = randomBytes(100_000);
    await fs.writeFile(path.join(src, 'lib/data.bin'), data);
    await fs.writeFile(path.join(src, 'notes.log'), 'left out\n');
    await fs.writeFile(path.join(src, '.pocketenvignore'), '*.log\n');

    const up = await cli('cp', src, 'cli-cp-one:/workspace/app');
    expect(up).toMatchObject({ code: 0, stdout: `Copied ${src} to cli-cp-one:/workspace/app\n` });
    expect((await one.exec('ls -A /workspace/app')).stdout).toBe('.pocketenvignore\nlib\n');

    const back = path.join(work, 'back');
    expect((await cli('cp', 'cli-cp-one:/workspace/app/lib', back)).code).toBe(0);
    expect(sha(await fs.readFile(path.join(back, 'data.bin')))).toBe(sha(data));

    expect((await cli('cp', 'cli-cp-one:/workspace/app', 'cli-cp-two:/srv/app')).code).toBe(0);
    expect((await two.exec('sha256sum /srv/app/lib/data.bin')).stdout.split(' ')[0]).toBe(sha(data));
  });

  it('refuses two local paths as a usage error, and says when a sandbox does not exist', async () => {
    const local = await cli('cp', './a', './b');
    expect(local.code).toBe(2);
    expect(local.stderr).toContain('both source and destination are local paths');
    const missing = await cli('cp', work, 'no-such-box:/workspace');
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('no such sandbox: no-such-box');
  });

  it('backup create → ls → restore --into another sandbox', async () => {
    await one.exec('mkdir -p /workspace/state && echo v1 > /workspace/state/version');
    const created = await cli('backup', 'create', 'cli-cp-one', '/workspace/state', '--description', 'v1 state', '--ttl', '2h');
    expect(created.code).toBe(0);
    const id = created.stdout.trim();
    expect(id).toMatch(/^bkp_\w+$/);

    const listed = await cli('backup', 'ls', 'cli-cp-one', '--json');
    expect(listed.code).toBe(0);
    const backups = JSON.parse(listed.stdout) as Array<{ id: string; description?: string; directory: string; expiresAt: string }>;
    expect(backups[0]).toMatchObject({ id, description: 'v1 state', directory: '/workspace/state' });
    expect(Date.parse(backups[0]!.expiresAt) - Date.now()).toBeGreaterThan(3600_000);

    const restored = await cli('backup', 'restore', id, '--into', 'cli-cp-two');
    expect(restored).toMatchObject({ code: 0, stdout: `Restored ${id} into cli-cp-two\n` });
    expect((await two.exec('cat /workspace/state/version')).stdout).toBe('v1\n');
  });
});

describe('cp argument parsing and the progress line', () => {
  it('reads <sandbox>:/path as a sandbox location and anything else as local', () => {
    expect(parseLocation('box:/workspace/x')).toEqual({ kind: 'sandbox', sandbox: 'box', path: '/workspace/x' });
    expect(parseLocation('sbx_4Vq9Zk:/')).toEqual({ kind: 'sandbox', sandbox: 'sbx_4Vq9Zk', path: '/' });
    expect(parseLocation('./box:/x')).toEqual({ kind: 'local', path: './box:/x' });
    expect(parseLocation('box:relative')).toEqual({ kind: 'local', path: 'box:relative' });
    expect(parseLocation('/abs/path')).toEqual({ kind: 'local', path: '/abs/path' });
  });

  it('draws a bar with percent and sizes when the total is known, a spinner otherwise', () => {
    expect(renderProgress('Uploading', 512 * 1024, 1024 * 1024, 'bytes', 100, 0)).toBe(
      'Uploading [############------------]  50% 512.0 KiB / 1.0 MiB',
    );
    expect(renderProgress('Packing', 3, 3, 'entries', 100, 0)).toBe('Packing [########################] 100% 3 files / 3 files');
    expect(renderProgress('Working in the sandbox', 0, undefined, 'bytes', 100, 1)).toBe('⠙ Working in the sandbox');
    expect(renderProgress('Uploading', 1, 2, 'bytes', 20, 0)).toHaveLength(19);
  });
});
