/**
 * keepAlive: a keepAlive:false sandbox is stopped (idle action `stop`) or paused (the default)
 * once idle for the configured time (short here); a keepAlive:true one keeps running; activity
 * (exec) counts as use. A paused one is resumed by use, and stopped once paused for long.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing';
import { Api, waitFor } from './helpers';

const IDLE_MS = 3000;
let server: TestServer;
let api: Api;

beforeAll(async () => {
  server = await startTestServer({ idleTimeoutMs: IDLE_MS, idleAction: 'stop' });
  api = new Api(server.url, server.ownerToken);
});

afterAll(async () => {
  await server?.close();
});

describe('idle sandboxes (idle action stop)', () => {
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

describe('idle sandboxes (idle action pause, the default)', () => {
  let pausing: TestServer;
  let papi: Api;

  beforeAll(async () => {
    pausing = await startTestServer({ idleTimeoutMs: IDLE_MS, stopAfterPausedMs: IDLE_MS * 4 });
    papi = new Api(pausing.url, pausing.ownerToken);
  });

  afterAll(async () => {
    await pausing?.close();
  });

  it('pauses an idle sandbox (processes kept), resumes it on exec, and stops it once paused for long', async () => {
    const sb = await papi.create({ name: 'idle-paused' });
    await papi.exec(sb.id, `nohup sleep 3600 >/dev/null 2>&1 &`);
    const paused = await waitFor('the idle sandbox to be paused', async () => {
      const seen = await papi.get(sb.id);
      return seen.paused ? seen : undefined;
    });
    // Official clients see RUNNING; ours see paused.
    expect(paused.status).toBe('RUNNING');

    // Any use resumes it, with its processes.
    expect((await papi.exec(sb.id, `ps -eo args= | grep -c '^sleep 3600$' || true`)).stdout).toBe('1\n');
    expect((await papi.get(sb.id)).paused).toBeUndefined();

    // Idle again: paused again, then stopped once paused for longer than stopAfterPaused.
    await waitFor('the sandbox to be paused again', async () => ((await papi.get(sb.id)).paused ? true : undefined));
    await waitFor('the long-paused sandbox to be stopped', async () => ((await papi.get(sb.id)).status === 'STOPPED' ? true : undefined), 120_000);
    expect((await papi.get(sb.id)).paused).toBeUndefined();
  });
});
