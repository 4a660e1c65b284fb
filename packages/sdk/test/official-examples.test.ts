/**
 * The official JS SDK's README and `example/` programs, run against this server through our
 * SDK. Each test body is the official code as written (only the import path and the checks
 * around it are ours; `/home/coder` is created first because our bases have no such user), with
 * the connection taken from the environment exactly as the official SDK reads it.
 */
import { startTestServer, type TestServer } from '@pocketenv/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, SandboxNotFoundError } from '../src/index';

let server: TestServer;
const savedEnv = { ...process.env };

beforeAll(async () => {
  server = await startTestServer();
  const alice = await server.createActor('alice');
  // What a user of the official SDK sets (plus the URL of this server, ours to read).
  process.env.POCKETENV_TOKEN = alice.token;
  process.env.POCKETENV_API_URL = server.url;
  delete process.env.POCKETENV_PUBLIC_KEY;
});

afterAll(async () => {
  process.env = savedEnv;
  await server?.close();
});

describe('the official examples, unchanged, on our SDK and server', () => {
  let sandbox: Sandbox;

  it('README quick start and example/exec.ts: create, start, sh with interpolation, raw exec', async () => {
    Sandbox.configure({ token: process.env.POCKETENV_TOKEN! });
    sandbox = await Sandbox.create({ base: 'openclaw' });
    expect(sandbox.id).toMatch(/^sbx_/);
    await sandbox.start();

    const result = await sandbox.sh`echo hello`;
    expect(result.stdout).toBe('hello\n');

    const dir = '/';
    const ls = await sandbox.sh`ls -la ${dir}`;
    expect(ls.stdout).toMatch(/\bworkspace\b/);
    expect(ls.exitCode).toBe(0);

    const uname = await sandbox.exec('uname -a');
    expect(uname.stdout).toMatch(/^Linux /);
  });

  it('example/files.ts: write (sealed), list, get, delete', async () => {
    await sandbox.file.write('/workspace/hello.txt', 'Hello, Pocketenv!');

    const { files } = await sandbox.file.list();
    expect(files.map((f) => f.path)).toEqual(['/workspace/hello.txt']);

    const file = await sandbox.file.get(files[0]!.id);
    expect(file.path).toBe('/workspace/hello.txt');
    // The server opened the sealed content and wrote it into the running sandbox.
    expect((await sandbox.sh`cat /workspace/hello.txt`).stdout).toBe('Hello, Pocketenv!');

    await sandbox.file.delete(files[0]!.id);
    expect((await sandbox.file.list()).files).toEqual([]);
  });

  it('sb.env and sb.secret: put, list, get, update, delete; values reach commands, secret values never come back', async () => {
    await sandbox.env.put('GREETING', 'hello');
    await sandbox.secret.put('API_KEY', 's3cret');
    expect((await sandbox.sh`echo $GREETING $API_KEY`).stdout).toBe('hello s3cret\n');

    const { variables, total } = await sandbox.env.list();
    expect(total).toBe(1);
    expect(variables[0]).toMatchObject({ name: 'GREETING', value: 'hello' });
    await sandbox.env.update(variables[0]!.id, 'GREETING', 'bonjour');
    expect((await sandbox.env.get(variables[0]!.id)).value).toBe('bonjour');

    const { secrets } = await sandbox.secret.list();
    expect(secrets.map((s) => s.name)).toEqual(['API_KEY']);
    expect(JSON.stringify(secrets)).not.toContain('s3cret');
    await sandbox.secret.update(secrets[0]!.id, 'API_KEY', 'rotated'); // sealed here too
    expect((await sandbox.sh`echo $GREETING $API_KEY`).stdout).toBe('bonjour rotated\n');

    await sandbox.env.delete(variables[0]!.id);
    await sandbox.secret.delete(secrets[0]!.id);
    expect((await sandbox.sh`echo "[$GREETING$API_KEY]"`).stdout).toBe('[]\n');
  });

  it('sb.volume: create with a path, list, get, delete', async () => {
    await sandbox.volume.create('examples-data', { path: '/data' });
    const { volumes, total } = await sandbox.volume.list();
    expect(total).toBe(1);
    expect(volumes[0]).toMatchObject({ name: 'examples-data', path: '/data' });
    expect((await sandbox.volume.get(volumes[0]!.id)).name).toBe('examples-data');
    await sandbox.volume.delete(volumes[0]!.id);
    expect((await sandbox.volume.list()).volumes).toEqual([]);
  });

  it('example/ports.ts: expose, list ports with .map, unexpose', async () => {
    const { previewUrl } = await sandbox.expose(3000, 'web server');
    expect(previewUrl).toMatch(/^https?:\/\//);

    const exposed = await sandbox.ports.list();
    expect(exposed.map((p) => p.port)).toEqual([3000]);

    await sandbox.unexpose(3000);
    expect((await sandbox.ports.list()).length).toBe(0);
  });

  it('example/services.ts: add, list, start, restart, stop, delete', async () => {
    await sandbox.service.add('web', 'node server.js', { ports: [3000] });

    const { services } = await sandbox.service.list();
    expect(services.map((s) => s.name)).toEqual(['web']);

    const svcId = services[0]!.id;
    await sandbox.service.start(svcId);
    await sandbox.service.restart(svcId);
    await sandbox.service.stop(svcId);
    expect((await sandbox.service.list()).services[0]!.status).toBe('STOPPED');
    await sandbox.service.delete(svcId);
    expect((await sandbox.service.list()).services).toEqual([]);
  });

  it('example/list.ts: the caller’s sandboxes with the total', async () => {
    Sandbox.configure();
    const { sandboxes, total } = await Sandbox.list({ limit: 10, offset: 0 });
    expect(total).toBe(1);
    expect(sandboxes.map((s) => `${s.id} ${s.name} [${s.status}]`)).toEqual([`${sandbox.id} ${sandbox.data.name} [RUNNING]`]);
  });

  it('example/start.ts, backup.ts and restore.ts: get by name, start, sh, back up, restore, stop; then delete', async () => {
    const got = await Sandbox.get(sandbox.data.name);
    expect(got.id).toBe(sandbox.id);
    await got.start();
    const result = await got.sh`echo hello from sandbox`;
    expect(result.stdout).toBe('hello from sandbox\n');

    await got.sh`mkdir -p /home/coder && echo v1 > /home/coder/note`;
    await got.createBackup('/home/coder');
    const { backups } = await got.listBackups();
    expect(backups.map((b) => b.directory)).toEqual(['/home/coder']);

    await got.sh`echo v2 > /home/coder/note`;
    await Sandbox.restoreBackup(backups[0]!.id);
    expect((await got.sh`cat /home/coder/note`).stdout).toBe('v1\n');

    await got.stop();
    expect((await Sandbox.get(sandbox.id)).data.status).toBe('STOPPED');
    await sandbox.delete();
    await expect(Sandbox.get(sandbox.id)).rejects.toBeInstanceOf(SandboxNotFoundError);
  });

  it('example/builder.ts: envs, a secret (sealed by us), vcpus, memory 4096 read as MiB, keepAlive, an inline token', async () => {
    process.env.API_KEY = 'from-the-environment';
    const sandbox = await Sandbox.builder('openclaw')
      .name('builder-example')
      .vcpus(2)
      .memory(4096)
      .env('NODE_ENV', 'production')
      .env('PORT', '3000')
      .secret('API_KEY', process.env.API_KEY!)
      .keepAlive()
      .token(process.env.POCKETENV_TOKEN!)
      .create();

    expect(`Created: ${sandbox.id}`).toMatch(/^Created: sbx_/);
    expect(sandbox.data).toMatchObject({ name: 'builder-example', vcpus: 2, memory: 4 });
    expect((await sandbox.sh`echo $NODE_ENV $PORT $API_KEY`).stdout).toBe('production 3000 from-the-environment\n');
    await sandbox.delete();
  });
});
