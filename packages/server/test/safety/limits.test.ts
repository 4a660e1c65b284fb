/**
 * Per-actor rate limits and quotas (src/limits): exec per second (token bucket), sandboxes
 * per actor, running sandboxes per actor, commands running at once per actor. Over a limit the answer is 429 RateLimitExceeded
 * with Retry-After, and one actor's limit never touches another actor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '@pocketenv/server/testing';
import { settingsFrom } from '@pocketenv/config';
import { resolveLimits as resolveFromSettings, DEFAULT_LIMITS } from '../../src/limits/index';
import { RateLimitError, pocketenv, sandbox } from '@pocketenv/sdk';
import { Api, startTestServerWithEnv } from '../helpers';

let server: TestServer;
let owner: Api;
let other: Api;

const LIMIT_ENV = { POCKETENV_MAX_SANDBOXES: '3', POCKETENV_MAX_RUNNING: '2', POCKETENV_EXEC_RATE: '1', POCKETENV_EXEC_BURST: '3' };

beforeAll(async () => {
  server = await startTestServerWithEnv(LIMIT_ENV, { log: false });
  owner = new Api(server.url, server.ownerToken);
  other = new Api(server.url, (await server.createActor('limits-other')).token);
});

afterAll(async () => {
  await server?.close();
});

/** A raw call, to see headers. */
async function raw(api: Api, nsid: string, params: Record<string, string>, body: unknown) {
  const url = new URL(`/xrpc/${nsid}`, server.url);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { error?: string; message?: string; id?: string } };
}

const resolveLimits = (env: Record<string, string>) => resolveFromSettings(settingsFrom(env));

describe('configuration', () => {
  it('has generous defaults and refuses nonsense values', () => {
    expect(resolveLimits({})).toEqual(DEFAULT_LIMITS);
    expect(resolveLimits({ POCKETENV_MAX_RUNNING: '0' }).maxRunning).toBe(0);
    expect(() => resolveLimits({ POCKETENV_MAX_SANDBOXES: '-1' })).toThrow(/POCKETENV_MAX_SANDBOXES/);
    expect(() => resolveLimits({ POCKETENV_EXEC_RATE: 'fast' })).toThrow(/POCKETENV_EXEC_RATE/);
    expect(() => resolveLimits({ POCKETENV_MAX_RUNNING: '2.5' })).toThrow(/POCKETENV_MAX_RUNNING/);
  });
});

describe('quotas and exec rate', () => {
  let first: string;
  let second: string;

  it('refuses a create beyond the running quota with 429 and Retry-After, counting concurrent creates exactly', async () => {
    const attempts = await Promise.all([0, 1, 2, 3].map(() => raw(owner, 'io.pocketenv.sandbox.createSandbox', {}, { base: 'debian' })));
    const ok = attempts.filter((a) => a.status === 200);
    const refused = attempts.filter((a) => a.status === 429);
    expect(ok).toHaveLength(2);
    expect(refused).toHaveLength(2);
    for (const r of refused) {
      expect(r.body.error).toBe('RateLimitExceeded');
      expect(r.body.message).toContain('POCKETENV_MAX_RUNNING');
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    [first, second] = ok.map((a) => a.body.id!);
  });

  it("does not count one actor's sandboxes against another", async () => {
    const mine = await other.create({});
    expect(mine.status).toBe('RUNNING');
    await other.delete(mine.id);
  });

  it('limits exec per second per actor (burst, then 429 with Retry-After), other actors unaffected', async () => {
    const replies = await Promise.all([0, 1, 2, 3, 4].map(() => raw(owner, 'io.pocketenv.sandbox.exec', { id: first }, { command: 'echo hi' })));
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200).length).toBe(3);
    const limited = replies.find((r) => r.status === 429)!;
    expect(limited.body.error).toBe('RateLimitExceeded');
    expect(limited.body.message).toContain('POCKETENV_EXEC_RATE');
    expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
    // The other actor has its own bucket (its request reaches the method: 404 for a sandbox it does not own).
    expect((await raw(other, 'io.pocketenv.sandbox.exec', { id: first }, { command: 'echo hi' })).status).toBe(404);
    // Waiting as told makes the next exec pass.
    await new Promise((r) => setTimeout(r, Number(limited.retryAfter) * 1000 + 100));
    const after = await raw(owner, 'io.pocketenv.sandbox.exec', { id: first }, { command: 'echo hi' });
    expect(after.status).toBe(200);
  });

  it('refuses starting a stopped sandbox beyond the running quota; frees up after a stop', async () => {
    await owner.stop(second);
    const third = await owner.create({}); // 3 sandboxes, 2 running
    const start = await raw(owner, 'io.pocketenv.sandbox.startSandbox', { id: second }, {});
    expect(start.status).toBe(429);
    expect(start.body.message).toContain('POCKETENV_MAX_RUNNING');
    expect((await owner.get(second)).status).toBe('STOPPED');
    await owner.stop(third.id);
    await owner.start(second);
    expect((await owner.get(second)).status).toBe('RUNNING');
  });

  it('refuses a create beyond the sandbox quota; frees up after a delete', async () => {
    const over = await raw(owner, 'io.pocketenv.sandbox.createSandbox', {}, { base: 'debian' });
    expect(over.status).toBe(429);
    expect(over.body.message).toContain('POCKETENV_MAX_SANDBOXES');
    await owner.delete(first);
    const now = await raw(owner, 'io.pocketenv.sandbox.createSandbox', {}, { base: 'debian' });
    expect(now.status).toBe(200);
  });
});

describe('concurrent commands per actor', () => {
  let busy: TestServer;
  let mine: Api;
  let theirs: Api;
  let ownerClient: ReturnType<typeof pocketenv.newClient>;

  beforeAll(async () => {
    busy = await startTestServerWithEnv({ POCKETENV_MAX_CONCURRENT_EXEC: '2' }, { log: false });
    mine = new Api(busy.url, busy.ownerToken);
    theirs = new Api(busy.url, (await busy.createActor('busy-other')).token);
    ownerClient = pocketenv.newClient(busy.ownerToken, { baseUrl: busy.url });
  });

  afterAll(async () => {
    await busy?.close();
  });

  const execOn = (api: Api, id: string, command: string) =>
    fetch(new URL(`/xrpc/io.pocketenv.sandbox.exec?id=${id}`, busy.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ command }),
    }).then(async (res) => ({ status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { error?: string; message?: string; stdout?: string } }));

  it('refuses a third command (exec or streaming) while two run, not another actor’s, and frees up when they end', async () => {
    const box = await mine.create({});
    const theirBox = await theirs.create({});
    const sb = sandbox.connect((await sandbox.get(ownerClient, box.id))!, ownerClient);
    // Two long streaming commands hold both slots (8 s: room for the checks below on a busy
    // host); each says when it has started.
    const hold = () => {
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      const done = sandbox.execStream(sb, 'echo started; sleep 8; echo held', { onStdout: () => started() });
      return { running, done };
    };
    const holders = [hold(), hold()];
    await Promise.all(holders.map((h) => h.running));

    const refused = await execOn(mine, box.id, 'echo third');
    expect(refused.status).toBe(429);
    expect(refused.body.error).toBe('RateLimitExceeded');
    expect(refused.body.message).toContain('POCKETENV_MAX_CONCURRENT_EXEC');
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    await expect(sandbox.execStream(sb, 'echo third')).rejects.toBeInstanceOf(RateLimitError);

    // Another actor's commands do not queue behind ours.
    const theirsNow = await execOn(theirs, theirBox.id, 'echo free');
    expect(theirsNow.status).toBe(200);
    expect(theirsNow.body.stdout).toBe('free\n');

    // The held commands were not disturbed, and their slots come back when they end.
    for (const h of holders) expect(await h.done).toEqual({ exitCode: 0, timedOut: false });
    const after = await execOn(mine, box.id, 'echo again');
    expect(after.status).toBe(200);
    expect(after.body.stdout).toBe('again\n');
  });
});
