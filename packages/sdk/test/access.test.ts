import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer } from '@pocketenv/server/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  AuthenticationError,
  type Client,
  type ConnectedSandbox,
  pocketenv,
  sandbox,
  SandboxNotFoundError,
} from '../src/index';

// Who may see and touch what: owners only, and nothing without a valid token.
describe('access control as seen through the SDK', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let alice: Client;
  let bob: Client;
  let aliceDid: string;
  let box: ConnectedSandbox;
  let emptyDataDir: string;

  beforeAll(async () => {
    server = await startTestServer();
    const a = await server.createActor('alice');
    const b = await server.createActor('bob');
    aliceDid = a.did;
    alice = pocketenv.newClient(a.token, { baseUrl: server.url });
    bob = pocketenv.newClient(b.token, { baseUrl: server.url });
    box = await sandbox.create(sandbox.new(alice, 'alices-box', 'debian', 'local'));
    await sandbox.start(box);
    emptyDataDir = await mkdtemp(join(tmpdir(), 'pocketenv-sdk-notoken-'));
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  afterAll(async () => {
    await server?.close();
    if (emptyDataDir) await rm(emptyDataDir, { recursive: true, force: true });
  });

  it('shows a second actor none of the first one’s sandboxes', async () => {
    expect(await sandbox.list(bob)).toEqual({ sandboxes: [], total: 0 });
    expect(await sandbox.getActorSandboxes(bob, aliceDid)).toEqual({ sandboxes: [], total: 0 });
    expect(await sandbox.get(bob, box.data.id)).toBeNull();
    expect(await sandbox.get(bob, box.data.name)).toBeNull();
  });

  it('answers 404 SandboxNotFound to every method a second actor calls on it', async () => {
    const stolen = sandbox.connect(box.data, bob);
    const calls: [string, () => Promise<unknown>][] = [
      ['start', () => sandbox.start(stolen)],
      ['exec', () => sandbox.exec(stolen, 'echo pwned')],
      ['stop', () => sandbox.stop(stolen)],
      ['delete', () => sandbox.delete(stolen)],
    ];
    for (const [what, call] of calls) {
      const error = await call().then(() => undefined, (e: unknown) => e);
      expect(error, what).toBeInstanceOf(SandboxNotFoundError);
      expect(error, what).toMatchObject({ status: 404, error: 'SandboxNotFound' });
    }
    // …and none of them did anything to alice's sandbox.
    expect((await sandbox.get(alice, box.data.id))?.status).toBe('RUNNING');
    expect((await sandbox.exec(box, 'echo still mine')).stdout).toBe('still mine\n');
  });

  it('rejects calls without a token as 401, saying where a token would come from', async () => {
    vi.stubEnv('POCKETENV_TOKEN', '');
    vi.stubEnv('POCKETENV_DATA_DIR', emptyDataDir);
    const anonymous = pocketenv.newClient(undefined, { baseUrl: server.url });
    expect(anonymous.token).toBeUndefined();

    const error = await sandbox.list(anonymous).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ status: 401, error: 'AuthenticationRequired' });
    expect((error as Error).message).toContain('POCKETENV_TOKEN');

    await expect(sandbox.exec(sandbox.connect(box.data, anonymous), 'true')).rejects.toBeInstanceOf(AuthenticationError);
    await expect(pocketenv.getProfile(anonymous)).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('rejects a garbage token as 401', async () => {
    const forged = pocketenv.newClient('not-a-real-token', { baseUrl: server.url });
    for (const call of [() => sandbox.list(forged), () => sandbox.get(forged, box.data.id), () => sandbox.stop(sandbox.connect(box.data, forged))]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuthenticationError);
      expect(error).toMatchObject({ status: 401, error: 'AuthenticationRequired' });
    }
    expect((await sandbox.get(alice, box.data.id))?.status).toBe('RUNNING');
  });

  it('needs no token to describe the server', async () => {
    vi.stubEnv('POCKETENV_TOKEN', '');
    vi.stubEnv('POCKETENV_DATA_DIR', emptyDataDir);
    const info = await pocketenv.describeServer(pocketenv.newClient(undefined, { baseUrl: server.url }));
    expect(info.bases).toContain('debian');
    expect(info.providers.map((p) => p.name)).toContain('local');
  });
});
