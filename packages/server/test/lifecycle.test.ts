/**
 * The sandbox lifecycle over HTTP against a started server and the real local provider:
 * the seed's flow, exec options, files surviving stop/start, lookups by id and name,
 * names, lists with paging, and preferences.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing';
import { Api, expectOk, waitFor } from './helpers';

let server: TestServer;
let api: Api;

beforeAll(async () => {
  server = await startTestServer();
  api = new Api(server.url, server.ownerToken);
});

afterAll(async () => {
  await server?.close();
});

describe('the seed flow: create → start → exec → stop → delete', () => {
  it('runs end to end over HTTP', async () => {
    const created = await api.create({});
    expect(created.id).toMatch(/^sbx_[0-9A-Za-z]+$/);
    expect(created.name).toMatch(/^[a-z]+-[a-z]+-[0-9a-z]{4}$/);
    expect(created).toMatchObject({ provider: 'local', baseSandbox: 'debian', status: 'RUNNING' });

    // create already started it; start again is a no-op that answers {}
    expect(await api.start(created.id)).toEqual({});
    const hello = await api.exec(created.id, 'echo hello');
    expect(hello).toEqual({ stdout: 'hello\n', stderr: '', exitCode: 0 });

    expect(await api.stop(created.id)).toEqual({});
    expect((await api.get(created.id)).status).toBe('STOPPED');

    const refused = await api.procedure('io.pocketenv.sandbox.exec', { id: created.id }, { command: 'echo hi' });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('InvalidRequest');
    expect(refused.body.message).toMatch(/not RUNNING/);

    expect(await api.delete(created.id)).toEqual({});
    expect(await api.get(created.id)).toBeNull();
    const again = await api.procedure('io.pocketenv.sandbox.deleteSandbox', { id: created.id }, {});
    expect(again.status).toBe(404);
    expect(again.body.error).toBe('SandboxNotFound');
  });
});

describe('a named sandbox', () => {
  let sb: any;
  beforeAll(async () => {
    sb = await api.create({ name: 'lifecycle-main', description: 'main test sandbox', topics: ['a', 'b'], vcpus: 1, memory: 1, disk: 3 });
  });

  it('is created with what was asked for', () => {
    expect(sb).toMatchObject({ name: 'lifecycle-main', description: 'main test sandbox', topics: ['a', 'b'], vcpus: 1, memory: 1, disk: 3, keepAlive: false });
  });

  it('is found by id and by name, and a missing one is {sandbox: null}', async () => {
    expect((await api.get(sb.id)).id).toBe(sb.id);
    expect((await api.get('lifecycle-main')).id).toBe(sb.id);
    expect(expectOk(await api.query('io.pocketenv.sandbox.getSandbox', { id: 'no-such-sandbox' }))).toEqual({ sandbox: null });
  });

  it('accepts its name wherever an id is expected', async () => {
    expect((await api.exec('lifecycle-main', 'hostname')).stdout).toBe('lifecycle-main\n');
  });

  it('refuses a second sandbox with the same name (409)', async () => {
    const dup = await api.procedure('io.pocketenv.sandbox.createSandbox', undefined, { base: 'debian', name: 'lifecycle-main' });
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ error: 'Conflict' });
    expect(dup.body.message).toMatch(/name/);
  });

  it('runs commands with exit codes, stderr, cwd, env and a timeout', async () => {
    const failing = await api.exec(sb.id, 'echo oops >&2; exit 3');
    expect(failing).toMatchObject({ stdout: '', stderr: 'oops\n', exitCode: 3 });

    expect((await api.exec(sb.id, 'pwd')).stdout).toBe('/workspace\n');
    expect((await api.exec(sb.id, 'pwd', { cwd: '/tmp' })).stdout).toBe('/tmp\n');
    const env = await api.exec(sb.id, 'echo "$GREETING $WHO"', { env: [{ name: 'GREETING', value: 'hi' }, { name: 'WHO', value: 'there' }] });
    expect(env.stdout).toBe('hi there\n');

    const slow = await api.exec(sb.id, 'sleep 30; echo finished', { timeoutMs: 500 });
    expect(slow.timedOut).toBe(true);
    expect(slow.stdout).not.toContain('finished');
    expect(slow.exitCode).not.toBe(0);
  });

  it('keeps a file written in /workspace across stop and start', async () => {
    await api.exec(sb.id, 'echo "kept across restarts" > /workspace/note.txt');
    await api.stop(sb.id);
    expect((await api.get(sb.id)).status).toBe('STOPPED');
    // a stop of a stopped sandbox is fine, with or without a body
    expect(expectOk(await api.procedure('io.pocketenv.sandbox.stopSandbox', { id: sb.id }))).toEqual({});

    // start with no body at all (some clients send none)
    expect(expectOk(await api.procedure('io.pocketenv.sandbox.startSandbox', { id: sb.id }))).toEqual({});
    const after = await api.get(sb.id);
    expect(after.status).toBe('RUNNING');
    expect(after.startedAt).toBeDefined();
    expect((await api.exec(sb.id, 'cat /workspace/note.txt')).stdout).toBe('kept across restarts\n');
  });

  it('round-trips sandboxDetailsPref preferences', async () => {
    const put = await api.procedure('io.pocketenv.sandbox.putPreferences', undefined, {
      sandboxId: sb.id,
      preferences: [
        { $type: 'io.pocketenv.sandbox.defs#sandboxDetailsPref', name: 'lifecycle-renamed', description: 'renamed', topics: ['x'], repo: 'https://example.invalid/r.git' },
      ],
    });
    expect(put).toEqual({ status: 200, body: {} });
    const prefs = expectOk(await api.query('io.pocketenv.sandbox.getPreferences', { id: 'lifecycle-renamed' }));
    expect(prefs).toEqual({
      preferences: [
        { $type: 'io.pocketenv.sandbox.defs#sandboxDetailsPref', name: 'lifecycle-renamed', description: 'renamed', topics: ['x'], repo: 'https://example.invalid/r.git' },
      ],
    });
    expect((await api.get(sb.id)).name).toBe('lifecycle-renamed');
    expect(await api.get('lifecycle-main')).toBeNull();

    const other = await api.create({ name: 'lifecycle-other' });
    const clash = await api.procedure('io.pocketenv.sandbox.putPreferences', undefined, {
      sandboxId: other.id,
      preferences: [{ $type: 'io.pocketenv.sandbox.defs#sandboxDetailsPref', name: 'lifecycle-renamed' }],
    });
    expect(clash.status).toBe(409);
    expect(clash.body.error).toBe('Conflict');

    const unsupported = await api.procedure('io.pocketenv.sandbox.putPreferences', undefined, {
      sandboxId: other.id,
      preferences: [{ $type: 'io.pocketenv.sandbox.defs#sandboxProviderPref', name: 'daytona' }],
    });
    expect(unsupported.status).toBe(400);
    expect(unsupported.body.message).toMatch(/preferences\[0\]/);
    await api.delete(other.id);
  });
});

describe('a sandbox that dies under the server', () => {
  // Kill the sandbox's init from the host, as an OOM kill would.
  const killInit = async (id: string) => {
    const ociRoot = path.join(server.dataDir, 'runtime', 'local', 'oci');
    const crun = (...args: string[]) => execFileSync('crun', ['--root', ociRoot, ...args], { encoding: 'utf8' });
    crun('kill', `pe-${id}`, 'KILL');
    await waitFor('the init to die', async () => (JSON.parse(crun('state', `pe-${id}`)).status === 'stopped' ? true : undefined));
  };

  it('is reported STOPPED by the next exec, which says why; start really starts it again', async () => {
    const sb = await api.create({ name: 'dies-under' });
    await killInit(sb.id);
    const reply = await api.procedure('io.pocketenv.sandbox.exec', { id: sb.id }, { command: 'true' });
    expect(reply.status).toBe(400);
    expect(reply.body.message).toMatch(/not running/);
    expect((await api.get(sb.id)).status).toBe('STOPPED');
    await api.start(sb.id);
    expect((await api.exec(sb.id, 'echo back')).stdout).toBe('back\n');

    // The record still says RUNNING here: start must not take it at its word.
    await killInit(sb.id);
    await api.start(sb.id);
    expect((await api.exec(sb.id, 'echo back again')).stdout).toBe('back again\n');
    await api.delete(sb.id);
  });
});

describe('lists', () => {
  it('pages the caller’s sandboxes newest first, with a total', async () => {
    const lister = await server.createActor('lister');
    const mine = api.as(lister.token);
    const made = [];
    for (const name of ['list-one', 'list-two', 'list-three']) made.push(await mine.create({ name }));
    await mine.stop('list-one');

    const first = expectOk(await mine.query('io.pocketenv.sandbox.getSandboxes', { limit: 2 }));
    expect(first.total).toBe(3);
    expect(first.sandboxes.map((s: any) => s.name)).toEqual(['list-three', 'list-two']);
    const second = expectOk(await mine.query('io.pocketenv.sandbox.getSandboxes', { limit: 2, offset: 2 }));
    expect(second.total).toBe(3);
    expect(second.sandboxes.map((s: any) => s.name)).toEqual(['list-one']);
    const beyond = expectOk(await mine.query('io.pocketenv.sandbox.getSandboxes', { offset: 10 }));
    expect(beyond).toEqual({ sandboxes: [], total: 3 });

    // the official JS SDK lists through getProfile + getActorSandboxes
    const profile = expectOk(await mine.query('io.pocketenv.actor.getProfile'));
    expect(profile).toMatchObject({ did: lister.did, handle: 'lister' });
    expect(profile.did).toBe('did:web:localhost:u:lister');
    const all = expectOk(await mine.query('io.pocketenv.actor.getActorSandboxes', { did: profile.did }));
    expect(all.total).toBe(3);
    expect(all.sandboxes.map((s: any) => s.name)).toEqual(['list-three', 'list-two', 'list-one']);
    const running = expectOk(await mine.query('io.pocketenv.actor.getActorSandboxes', { did: profile.did, isRunning: true }));
    expect(running.sandboxes.map((s: any) => s.name)).toEqual(['list-three', 'list-two']);
    expect(running.total).toBe(2);
    const stopped = expectOk(await mine.query('io.pocketenv.actor.getActorSandboxes', { did: profile.did, isRunning: false }));
    expect(stopped).toMatchObject({ total: 1, sandboxes: [{ name: 'list-one', status: 'STOPPED' }] });

    for (const s of made) await mine.delete(s.id);
    expect(expectOk(await mine.query('io.pocketenv.sandbox.getSandboxes'))).toEqual({ sandboxes: [], total: 0 });
  });
});

describe('server description and profile', () => {
  it('describes the server without authentication', async () => {
    const reply = await api.query('io.pocketenv.server.describeServer', undefined, { token: null });
    expect(reply.status).toBe(200);
    expect(reply.body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(reply.body.publicKey).toMatch(/^[0-9a-f]{64}$/);
    // `docker` is listed too when an engine answers on this host (POCKETENV_DOCKER=auto).
    expect(reply.body.providers[0]).toEqual({ name: 'local', available: true });
    expect(reply.body.providers.slice(1).map((p: { name: string }) => p.name)).toEqual(
      reply.body.providers.length > 1 ? ['docker'] : [],
    );
    expect(reply.body.bases).toContain('debian');
  });

  it('answers getProfile for the caller and for another actor', async () => {
    const me = expectOk(await api.query('io.pocketenv.actor.getProfile'));
    expect(me).toMatchObject({ did: 'did:web:localhost:u:owner', handle: 'owner' });
    const other = await server.createActor('profiled');
    expect(expectOk(await api.query('io.pocketenv.actor.getProfile', { did: other.did }))).toMatchObject({ did: other.did, handle: 'profiled' });
    const missing = await api.query('io.pocketenv.actor.getProfile', { did: 'did:web:localhost:u:nobody' });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe('NotFound');
  });
});

describe('names are unique per owner', () => {
  it('two actors creating the same name at once both succeed and stay separate; the same actor twice is a 409', async () => {
    const alice = api.as((await server.createActor('names-alice')).token);
    const bob = api.as((await server.createActor('names-bob')).token);
    const [a, b] = await Promise.all([alice.create({ name: 'demo' }), bob.create({ name: 'demo' })]);
    expect(a).toMatchObject({ name: 'demo', status: 'RUNNING' });
    expect(b).toMatchObject({ name: 'demo', status: 'RUNNING' });
    expect(b.id).not.toBe(a.id);

    const again = await alice.procedure('io.pocketenv.sandbox.createSandbox', undefined, { base: 'debian', name: 'demo' });
    expect(again).toMatchObject({ status: 409, body: { error: 'Conflict', message: expect.stringContaining('you already have a sandbox named "demo"') } });

    // Same hostname, separate sandboxes: each name resolves to the caller's own.
    await alice.exec('demo', 'echo alice > /workspace/who');
    await bob.exec('demo', 'echo bob > /workspace/who');
    expect((await alice.exec('demo', 'hostname; cat /workspace/who')).stdout).toBe('demo\nalice\n');
    expect((await bob.exec('demo', 'hostname; cat /workspace/who')).stdout).toBe('demo\nbob\n');
    expect((await alice.get('demo')).id).toBe(a.id);
    expect((await bob.get('demo')).id).toBe(b.id);

    // Renaming into a name only another actor uses is fine; into one's own is a 409.
    const spare = await bob.create({ name: 'spare' });
    const rename = (name: string) =>
      bob.procedure('io.pocketenv.sandbox.putPreferences', undefined, { sandboxId: spare.id, preferences: [{ $type: 'io.pocketenv.sandbox.defs#sandboxDetailsPref', name }] });
    await alice.create({ name: 'alice-only' });
    expect(await rename('alice-only')).toEqual({ status: 200, body: {} });
    expect(await rename('demo')).toMatchObject({ status: 409, body: { error: 'Conflict' } });

    // Bob deleting "demo" deletes his; Alice's keeps running with its files.
    await bob.delete('demo');
    expect(await bob.get('demo')).toBeNull();
    expect((await alice.exec('demo', 'cat /workspace/who')).stdout).toBe('alice\n');
    await Promise.all([alice.delete('demo'), alice.delete('alice-only'), bob.delete('alice-only')]);
  });
});
