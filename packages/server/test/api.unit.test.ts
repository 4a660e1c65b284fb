/**
 * The XRPC API over real HTTP against a server on the fake provider (no root, no images): the
 * lifecycle, exec, variables, ownership, authentication and input errors, as a client sees
 * them. What is about isolation or the local provider's own features stays in the other files
 * of this folder, which run against the local provider.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '@pocketenv/server/testing';
import { Api, expectOk } from './helpers';

let server: TestServer;
let api: Api;
const FAKE = { provider: 'fake', base: 'host' };

beforeAll(async () => {
  server = await startTestServer({ providers: 'fake' });
  api = new Api(server.url, server.ownerToken);
});

afterAll(async () => {
  await server?.close();
});

describe('the seed flow: create → start → exec → stop → delete', () => {
  it('runs end to end over HTTP', async () => {
    const created = await api.create(FAKE);
    expect(created.id).toMatch(/^sbx_[0-9A-Za-z]+$/);
    expect(created.name).toMatch(/^[a-z]+-[a-z]+-[0-9a-z]{4}$/);
    expect(created).toMatchObject({ provider: 'fake', baseSandbox: 'host', status: 'RUNNING' });

    expect(await api.start(created.id)).toEqual({});
    expect(await api.exec(created.id, 'echo hello')).toEqual({ stdout: 'hello\n', stderr: '', exitCode: 0 });

    expect(await api.stop(created.id)).toEqual({});
    expect((await api.get(created.id)).status).toBe('STOPPED');
    const refused = await api.procedure('io.pocketenv.sandbox.exec', { id: created.id }, { command: 'echo hi' });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: 'InvalidRequest', message: expect.stringMatching(/not RUNNING/) });

    expect(await api.delete(created.id)).toEqual({});
    expect(await api.get(created.id)).toBeNull();
    const again = await api.procedure('io.pocketenv.sandbox.deleteSandbox', { id: created.id }, {});
    expect(again.status).toBe(404);
    expect(again.body.error).toBe('SandboxNotFound');
  });

  it('keeps files across stop and start', async () => {
    const sb = await api.create({ ...FAKE, name: 'api-keep' });
    await api.exec(sb.id, 'echo "kept across restarts" > note.txt');
    await api.stop(sb.id);
    // A stop of a stopped sandbox is fine; a start may come without a body.
    expect(expectOk(await api.procedure('io.pocketenv.sandbox.stopSandbox', { id: sb.id }))).toEqual({});
    expect(expectOk(await api.procedure('io.pocketenv.sandbox.startSandbox', { id: sb.id }))).toEqual({});
    expect((await api.exec('api-keep', 'cat note.txt')).stdout).toBe('kept across restarts\n');
  });
});

describe('names and lookups', () => {
  let sb: any;
  beforeAll(async () => {
    sb = await api.create({ ...FAKE, name: 'api-named', description: 'named one', topics: ['a', 'b'], vcpus: 1, memory: 1, disk: 3 });
  });

  it('creates what was asked for, found by id or name; a missing one is {sandbox: null}', async () => {
    expect(sb).toMatchObject({ name: 'api-named', description: 'named one', topics: ['a', 'b'], vcpus: 1, memory: 1, disk: 3, keepAlive: false });
    expect((await api.get('api-named')).id).toBe(sb.id);
    expect(expectOk(await api.query('io.pocketenv.sandbox.getSandbox', { id: 'no-such-sandbox' }))).toEqual({ sandbox: null });
  });

  it('refuses a second sandbox with the same name (409)', async () => {
    const dup = await api.procedure('io.pocketenv.sandbox.createSandbox', undefined, { ...FAKE, name: 'api-named' });
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ error: 'Conflict', message: expect.stringMatching(/name/) });
  });

  it('lists the caller’s sandboxes newest first, with a total and paging', async () => {
    const page = expectOk(await api.query('io.pocketenv.sandbox.getSandboxes', { limit: 1 }));
    const all = expectOk(await api.query('io.pocketenv.sandbox.getSandboxes', { limit: 100 }));
    expect(page.total).toBe(all.sandboxes.length);
    expect(page.sandboxes).toHaveLength(1);
    expect(page.sandboxes[0].id).toBe(all.sandboxes[0].id);
    const second = expectOk(await api.query('io.pocketenv.sandbox.getSandboxes', { limit: 1, offset: 1 }));
    expect(second.sandboxes[0].id).toBe(all.sandboxes[1].id);
  });
});

describe('exec', () => {
  let id: string;
  beforeAll(async () => {
    id = (await api.create({ ...FAKE, name: 'api-exec' })).id;
  });

  it('returns exit codes and stderr, with per-command env', async () => {
    expect(await api.exec(id, 'echo oops >&2; exit 3')).toEqual({ stdout: '', stderr: 'oops\n', exitCode: 3 });
    const env = await api.exec(id, 'echo "$GREETING $WHO"', { env: [{ name: 'GREETING', value: 'hi' }, { name: 'WHO', value: 'there' }] });
    expect(env.stdout).toBe('hi there\n');
  });

  it('runs in the given working directory', async () => {
    await api.exec(id, 'echo in-tmp > where.txt', { cwd: '/tmp' });
    expect((await api.exec(id, 'cat where.txt', { cwd: '/tmp' })).stdout).toBe('in-tmp\n');
    expect((await api.exec(id, 'cat where.txt')).exitCode).not.toBe(0); // not in /workspace
    const missing = await api.exec(id, 'true', { cwd: '/no/such/dir' });
    expect(missing.exitCode).toBe(126);
    expect(missing.stderr).toContain('/no/such/dir');
  });

  it('kills a command that runs out of time, and cuts output at 1 MiB', async () => {
    const slow = await api.exec(id, 'sleep 30; echo finished', { timeoutMs: 500 });
    expect(slow).toMatchObject({ timedOut: true, stdout: '' });
    expect(slow.exitCode).not.toBe(0);
    const big = await api.exec(id, "head -c 1500000 /dev/zero | tr '\\0' a");
    expect(big.truncated).toBe(true);
    expect(big.stdout).toHaveLength(1024 * 1024);
  });

  it('refuses input it cannot run, naming the field', async () => {
    const relative = await api.procedure('io.pocketenv.sandbox.exec', { id }, { command: 'true', cwd: 'tmp' });
    expect(relative.status).toBe(400);
    expect(relative.body.message).toMatch(/cwd/);
    const badEnv = await api.procedure('io.pocketenv.sandbox.exec', { id }, { command: 'true', env: [{ name: '1BAD', value: 'x' }] });
    expect(badEnv.status).toBe(400);
    expect(badEnv.body.message).toMatch(/env\[0\]\.name/);
    const noCommand = await api.procedure('io.pocketenv.sandbox.exec', { id }, {});
    expect(noCommand.status).toBe(400);
    expect(noCommand.body.error).toBe('InvalidRequest');
  });
});

describe('variables', () => {
  it('reach the next exec, are updated in place, and are gone once deleted', async () => {
    const sb = await api.create({ ...FAKE, name: 'api-vars' });
    const added = expectOk(await api.procedure('io.pocketenv.variable.addVariable', undefined, { variable: { sandboxId: sb.name, name: 'GREETING', value: 'hello world' } }));
    expect(added.variable).toMatchObject({ sandboxId: sb.id, name: 'GREETING', value: 'hello world' });
    expect((await api.exec(sb.id, 'echo "$GREETING"')).stdout).toBe('hello world\n');
    expectOk(await api.procedure('io.pocketenv.variable.addVariable', undefined, { variable: { sandboxId: sb.id, name: 'GREETING', value: 'bonjour' } }));
    await api.stop(sb.id);
    await api.start(sb.id);
    expect((await api.exec(sb.id, 'echo "$GREETING"')).stdout).toBe('bonjour\n');
    expect(expectOk(await api.procedure('io.pocketenv.variable.deleteVariable', { id: added.variable.id }, {}))).toEqual({});
    expect((await api.exec(sb.id, 'echo "${GREETING-unset}"')).stdout).toBe('unset\n');
  });
});

describe('ownership and authentication', () => {
  it('shows another actor none of the owner’s sandboxes: 404 on each method', async () => {
    const mine = await api.create({ ...FAKE, name: 'api-private' });
    const bob = api.as((await server.createActor('bob-fast')).token);
    expect(expectOk(await bob.query('io.pocketenv.sandbox.getSandboxes', {})).sandboxes).toEqual([]);
    expect(expectOk(await bob.query('io.pocketenv.sandbox.getSandbox', { id: mine.id }))).toEqual({ sandbox: null });
    for (const [nsid, body] of [
      ['io.pocketenv.sandbox.exec', { command: 'echo pwned' }],
      ['io.pocketenv.sandbox.stopSandbox', {}],
      ['io.pocketenv.sandbox.deleteSandbox', {}],
    ] as const) {
      const r = await bob.procedure(nsid, { id: mine.id }, body);
      expect(r.status, nsid).toBe(404);
      expect(r.body.error).toBe('SandboxNotFound');
    }
    expect((await api.get(mine.id)).status).toBe('RUNNING');
  });

  it('answers 401 without a token, with a bad one, and with a revoked one', async () => {
    for (const token of [null, 'garbage', 'x'.repeat(5000)]) {
      const r = await api.query('io.pocketenv.sandbox.getSandboxes', {}, { token });
      expect(r.status).toBe(401);
      expect(r.body.error).toBe('AuthenticationRequired');
    }
    const carol = await server.createActor('carol-fast');
    expect((await api.as(carol.token).query('io.pocketenv.sandbox.getSandboxes', {})).status).toBe(200);
    expect(await server.revokeToken(carol.token)).toBe(true);
    expect((await api.as(carol.token).query('io.pocketenv.sandbox.getSandboxes', {})).status).toBe(401);
  });
});

describe('input errors are 4xx that say what to change, never 500', () => {
  it('an unknown base or provider names the available ones', async () => {
    const base = await api.procedure('io.pocketenv.sandbox.createSandbox', undefined, { provider: 'fake', base: 'debian' });
    expect(base.status).toBe(400);
    expect(base.body.message).toMatch(/unknown base "debian" for provider fake; available: host/);
    const provider = await api.procedure('io.pocketenv.sandbox.createSandbox', undefined, { provider: 'local', base: 'host' });
    expect(provider.status).toBe(400);
    expect(provider.body.error).toBe('InvalidRequest');
    // Names the provider asked for and the one this server has.
    expect(provider.body.message).toMatch(/provider .*local.*; (available|accepted): fake/);
  });

  it('bad JSON, a limit out of range, a body that is too large', async () => {
    const json = await api.call('io.pocketenv.sandbox.createSandbox', 'POST', { rawBody: '{"base": ' });
    expect(json).toEqual({ status: 400, body: { error: 'InvalidRequest', message: 'request body is not valid JSON' } });
    const limit = await api.query('io.pocketenv.sandbox.getSandboxes', { limit: 0 });
    expect(limit.status).toBe(400);
    expect(limit.body.message).toMatch(/limit/);
    const big = await api.call('io.pocketenv.sandbox.createSandbox', 'POST', { rawBody: JSON.stringify({ base: 'host', description: 'x'.repeat(3 * 1024 * 1024) }) });
    expect(big.status).toBe(413);
    expect(big.body.error).toBe('PayloadTooLarge');
  });
});
