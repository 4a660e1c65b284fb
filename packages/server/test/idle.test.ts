/**
 * keepAlive: a keepAlive:false sandbox is stopped once idle for the configured time (short
 * here); a keepAlive:true one keeps running; activity (exec) counts as use.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing';
import { Api, waitFor } from './helpers';

const IDLE_MS = 3000;
let server: TestServer;
let api: Api;

beforeAll(async () => {
  server = await startTestServer({ idleTimeoutMs: IDLE_MS });
  api = new Api(server.url, server.ownerToken);
});

afterAll(async () => {
  await server?.close();
});

describe('idle sandboxes', () => {
  it('stops keepAlive:false sandboxes after the idle timeout and leaves keepAlive:true ones running', async () => {
    const kept = await api.create({ name: 'idle-kept', keepAlive: true });
    const reaped = await api.create({ name: 'idle-reaped' });
    expect(kept.keepAlive).toBe(true);
    expect(reaped.keepAlive).toBe(false);

    await waitFor('the idle sandbox to be stopped', async () => ((await api.get(reaped.id)).status === 'STOPPED' ? true : undefined));

    // Give the reaper several more idle periods: the keepAlive sandbox must still run.
    await new Promise((r) => setTimeout(r, IDLE_MS * 2));
    expect((await api.get(kept.id)).status).toBe('RUNNING');
    expect((await api.exec(kept.id, 'echo still here')).stdout).toBe('still here\n');

    // A stopped-for-idleness sandbox starts again normally.
    await api.start(reaped.id);
    expect((await api.get(reaped.id)).status).toBe('RUNNING');
  });

  it('counts a long-running exec as activity', async () => {
    const busy = await api.create({ name: 'idle-busy' });
    // The command outlives the idle timeout; the reaper must not stop the sandbox under it.
    const result = await api.exec(busy.id, `sleep ${(IDLE_MS * 2) / 1000}; echo done`);
    expect(result).toMatchObject({ stdout: 'done\n', exitCode: 0 });
  });

  it('counts short execs as activity although their activity is written in batches', async () => {
    const used = await api.create({ name: 'idle-used' });
    const idle = await api.create({ name: 'idle-unused' });
    // Short commands, each well inside the idle timeout of the previous one, for three idle
    // periods: the reaper must see each (it runs every IDLE_MS / 4, more often than activity
    // is written), so the used sandbox keeps running while the unused one is stopped.
    const until = Date.now() + IDLE_MS * 3;
    while (Date.now() < until) {
      expect((await api.exec(used.id, 'true')).exitCode).toBe(0);
      await new Promise((r) => setTimeout(r, IDLE_MS / 3));
    }
    expect((await api.get(used.id)).status).toBe('RUNNING');
    await waitFor('the unused sandbox to be stopped', async () => ((await api.get(idle.id)).status === 'STOPPED' ? true : undefined));
  });

  it('lets startSandbox switch keepAlive on', async () => {
    const later = await api.create({ name: 'idle-later' });
    await api.start(later.id, { keepAlive: true });
    expect((await api.get(later.id)).keepAlive).toBe(true);
    await new Promise((r) => setTimeout(r, IDLE_MS * 2));
    expect((await api.get(later.id)).status).toBe('RUNNING');
  });
});
