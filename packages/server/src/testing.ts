/**
 * @module @pocketenv/server/testing
 * A real server for tests: a fresh temporary data directory, a random port, the real
 * providers. `close()` deletes every sandbox it holds (whoever owns it), shuts the server
 * down and removes the data directory.
 *
 * `startTestServer({ providers: 'fake' })` runs it on the fake provider instead (no root,
 * no images, NO ISOLATION: commands are the test process's own children; see
 * @pocketenv/runtime's src/fake). This entry point is the only way to select it: no server
 * setting or environment variable does, so an operator cannot run sandboxes unisolated by
 * accident.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FakeProvider, type Provider } from '@pocketenv/runtime';
import { createActorToken, revokeToken } from './admin';
import type { ServerOptions } from './config';
import type { IssuedToken } from './identity/actors';
import { launch, type RunningServer } from './server';

export { fetchPreview, localhostLookup, type PreviewRequestInit } from './testing-http';

export interface TestServer extends RunningServer {
  /** Creates another local actor with a fresh token. */
  /** A local actor with a new token (valid for `ttlMs` when given). */
  createActor(handle: string, opts?: { ttlMs?: number }): Promise<IssuedToken>;
  /** Revokes a token; true when it was active. */
  revokeToken(token: string): Promise<boolean>;
}

/**
 * Test servers are quiet and keep no warm pool (which would build sandboxes nobody asked for)
 * unless the environment or the options say otherwise; the server itself does not know it runs
 * under a test.
 */
const TEST_DEFAULTS = { POCKETENV_LOG: '0', POCKETENV_POOL_SIZE: '0' };

export interface TestServerOptions extends Omit<Partial<ServerOptions>, 'providers'> {
  /** The providers; `'fake'`: one FakeProvider (bases: `host`) with its trees in `<dataDir>/runtime/fake`. */
  providers?: Provider[] | 'fake';
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-test-')));
  const providers = opts.providers === 'fake' ? [new FakeProvider({ stateDir: path.join(dataDir, 'runtime', 'fake') })] : opts.providers;
  let started;
  try {
    started = await launch({ port: 0, host: '127.0.0.1', ...opts, providers, dataDir }, { ...TEST_DEFAULTS, ...process.env });
  } catch (err) {
    if (ownDir) await fs.rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const { server, ctx } = started;
  const admin = { dataDir, databaseUrl: opts.databaseUrl };

  const close = async () => {
    const problems: string[] = [];
    for (const record of await ctx.sandboxes.listAll()) {
      await ctx.orchestrator.delete(record).catch((err: unknown) => problems.push(`${record.id}: ${(err as Error).message}`));
    }
    for (const provider of ctx.providers.all()) {
      for (const leftover of await provider.list().catch(() => [])) {
        await provider.delete(leftover.id).catch((err: unknown) => problems.push(`${leftover.id}: ${(err as Error).message}`));
      }
    }
    await server.close();
    if (ownDir) await removeDataDir(dataDir, problems);
    if (problems.length) throw new Error(`test server cleanup left things behind:\n${problems.join('\n')}`);
  };

  return {
    ...server,
    close,
    createActor: (handle, opts) => createActorToken({ ...admin, handle, ttlMs: opts?.ttlMs }),
    revokeToken: (token) => revokeToken({ ...admin, token }),
  };
}

/** Never `rm -rf` through a mount point: a leftover bind mount could point at host files. */
async function removeDataDir(dataDir: string, problems: string[]): Promise<void> {
  const mounts = (await fs.readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((mountPoint): mountPoint is string => !!mountPoint && (mountPoint === dataDir || mountPoint.startsWith(dataDir + '/')));
  if (mounts.length) {
    problems.push(`not removing ${dataDir}: still mounted: ${mounts.join(', ')}`);
    return;
  }
  await fs.rm(dataDir, { recursive: true, force: true });
}
