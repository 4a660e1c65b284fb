/**
 * Background builds (bases and code-server), as a client sees them: describeServer's per-base
 * status, progress and estimate; a create of a base still building waits for it, or answers 503
 * NotReady once POCKETENV_BASE_WAIT runs out; a failed build is reported and tried again; the
 * first exposeVscode on a machine without code-server starts its build and says so.
 *
 * The builds are the real LocalProvider's, wrapped so chosen bases look unbuilt and their build
 * waits for the test (real images take minutes). The last test runs a REAL build (mmdebstrap
 * into a fresh image dir) and stops the server in the middle of it: nothing may be left behind.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LocalProvider } from '@pocketenv/runtime';
import { startTestServer, type TestServer } from '../src/testing';
import { Api, expectOk, mountsUnder, waitFor } from './helpers';
import { gatedProvider } from './support/gated-provider';

const servers: TestServer[] = [];
const dirs: string[] = [];

async function serverWith(gated: string[], opts: { prebuild?: string[]; baseWaitMs?: number; imageDir?: string } = {}) {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-builds-'));
  dirs.push(dataDir);
  const local = new LocalProvider({ stateDir: path.join(dataDir, 'runtime', 'local'), imageDir: opts.imageDir });
  const provider = gatedProvider(local, gated);
  const server = await startTestServer({ dataDir, providers: [provider], prebuild: opts.prebuild ?? gated, baseWaitMs: opts.baseWaitMs });
  servers.push(server);
  const api = new Api(server.url, server.ownerToken);
  const describe = async () => expectOk(await api.query('io.pocketenv.server.describeServer'));
  const base = async (name: string) => (await describe()).baseDetails.find((b: { name: string }) => b.name === name);
  return { server, api, provider, describe, base };
}

afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});
afterAll(async () => {
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
});

describe('background builds', () => {
  it('describeServer shows each base: building with its progress, queued behind it, ready', async () => {
    const { provider, base } = await serverWith(['debian', 'node']);
    const building = await waitFor('debian building', async () => {
      const b = await base('debian');
      return b.status === 'building' ? b : undefined;
    });
    expect(building).toMatchObject({ ready: false, status: 'building', progress: 40 });
    expect(building.readyInSeconds).toBeGreaterThan(0);
    const queued = await base('node');
    expect(queued).toMatchObject({ ready: false, status: 'queued' });
    // Behind debian: its estimate includes what is left of debian's build.
    expect(queued.readyInSeconds).toBeGreaterThan(building.readyInSeconds - 1);
    expect(await base('claude')).toMatchObject({ ready: true, status: 'ready' });

    // One at a time: node starts only when debian is done.
    expect(provider.gate('node').started).toBe(0);
    provider.gate('debian').release();
    await waitFor('node building', async () => ((await base('node')).status === 'building' ? true : undefined));
    expect(await base('debian')).toMatchObject({ ready: true, status: 'ready' });
  });

  it('a create of a base still building waits for it, then the sandbox works', async () => {
    const { api, provider, base } = await serverWith(['debian']);
    await waitFor('debian building', async () => ((await base('debian')).status === 'building' ? true : undefined));
    let settled = false;
    const creating = api.procedure('io.pocketenv.sandbox.createSandbox', undefined, { base: 'debian', name: 'waits-for-base' }).finally(() => (settled = true));
    // Still waiting while the build is (the server holds the request, records nothing yet).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(settled).toBe(false);
    expect(expectOk(await api.query('io.pocketenv.sandbox.getSandboxes')).sandboxes).toEqual([]);

    provider.gate('debian').release();
    const created = expectOk(await creating);
    expect(created.status).toBe('RUNNING');
    expect((await api.exec(created.id, 'echo built')).stdout).toBe('built\n');
  });

  it('the wait is bounded: 503 NotReady says how far the build is, and nothing is created', async () => {
    const { api, provider, base } = await serverWith(['debian'], { baseWaitMs: 300 });
    await waitFor('debian building', async () => ((await base('debian')).status === 'building' ? true : undefined));
    const reply = await api.procedure('io.pocketenv.sandbox.createSandbox', undefined, { base: 'debian', name: 'too-early' });
    expect(reply.status).toBe(503);
    expect(reply.body.error).toBe('NotReady');
    expect(reply.body.message).toMatch(/^base: base debian is being built \(40 %, ready in about \d+ (s|min)\); try again then/);
    expect(expectOk(await api.query('io.pocketenv.sandbox.getSandboxes')).sandboxes).toEqual([]);
    expect(provider.gate('debian').started).toBe(1); // the create did not start a second build
  });

  it('a base that is not scheduled is built for the create that needs it, next in line', async () => {
    // node builds in the background; a create of claude (not scheduled) goes before what is queued.
    const { api, provider, base } = await serverWith(['node', 'openclaw', 'claude'], { prebuild: ['node', 'openclaw'] });
    await waitFor('node building', async () => ((await base('node')).status === 'building' ? true : undefined));
    expect(await base('claude')).toMatchObject({ status: 'notBuilt' });
    const creating = api.procedure('io.pocketenv.sandbox.createSandbox', undefined, { base: 'claude', name: 'jumps-the-queue' });
    await waitFor('claude queued', async () => ((await base('claude')).status === 'queued' ? true : undefined));
    provider.gate('node').release();
    await waitFor('claude building', async () => ((await base('claude')).status === 'building' ? true : undefined));
    expect(await base('openclaw')).toMatchObject({ status: 'queued' });
    provider.gate('claude').release();
    expect(expectOk(await creating).status).toBe('RUNNING');
  });

  it('a failed build is reported with its reason, and the next create tries again', async () => {
    const { api, provider, base } = await serverWith(['debian']);
    await waitFor('debian building', async () => ((await base('debian')).status === 'building' ? true : undefined));
    provider.gate('debian').fail('mirror unreachable (simulated)');
    const failed = await waitFor('debian failed', async () => {
      const b = await base('debian');
      return b.status === 'failed' ? b : undefined;
    });
    expect(failed.error).toMatch(/mirror unreachable \(simulated\)/);

    const creating = api.procedure('io.pocketenv.sandbox.createSandbox', undefined, { base: 'debian', name: 'after-failure' });
    await waitFor('debian retried', async () => (provider.gate('debian').started === 2 ? true : undefined));
    provider.gate('debian').release();
    expect(expectOk(await creating).status).toBe('RUNNING');
  });

  it('exposeVscode before code-server is built starts its build and says so, at once', async () => {
    const toolsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-tools-'));
    dirs.push(toolsDir);
    const previous = process.env.POCKETENV_TOOLS_DIR;
    process.env.POCKETENV_TOOLS_DIR = toolsDir;
    try {
      // claude's (gated) build holds the queue, so code-server's real build never starts here.
      const { api, describe } = await serverWith(['claude']);
      const box = await api.create({ name: 'wants-vscode' });
      expect((await describe()).tools).toEqual([{ name: 'code-server', status: 'notBuilt' }]);

      const reply = await api.procedure('io.pocketenv.sandbox.exposeVscode', { id: box.id }, {});
      expect(reply.status).toBe(503);
      expect(reply.body.error).toBe('NotReady');
      expect(reply.body.message).toMatch(/VS Code needs code-server, which this machine builds once .*waiting to be built \(ready in about \d+ (s|min)\)/);
      expect((await describe()).tools).toEqual([expect.objectContaining({ name: 'code-server', status: 'queued' })]);
    } finally {
      for (const server of servers.splice(0)) await server.close();
      process.env.POCKETENV_TOOLS_DIR = previous;
    }
    // The server stopped before code-server's turn: nothing was built or left half-built.
    expect(await fs.readdir(toolsDir)).not.toContainEqual(expect.stringMatching(/^(code-server-|\.build-code-server-)/));
  });

  it('REAL build: stopping the server in the middle of one leaves nothing behind', async () => {
    const imageDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-images-'));
    dirs.push(imageDir);
    const { base, server } = await serverWith([], { prebuild: ['debian'], imageDir });
    // mmdebstrap is running once the build has reported a step of its own.
    await waitFor('a real debian build under way', async () => ((await base('debian')).progress ?? 0) > 0 ? true : undefined, 120_000);
    expect(mmdebstrapsFor(imageDir)).not.toEqual([]);
    servers.splice(servers.indexOf(server), 1);
    await server.close();

    expect(mmdebstrapsFor(imageDir)).toEqual([]);
    expect(await mountsUnder(imageDir)).toEqual([]);
    // Only the build lock file may remain: no half-built image, no build dir, no failure log.
    expect((await fs.readdir(imageDir)).filter((f) => f !== '.debian.lock')).toEqual([]);
  }, 300_000);
});

/** mmdebstrap processes building into `imageDir`. */
function mmdebstrapsFor(imageDir: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', `mmdebstrap.*${imageDir}`], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}
