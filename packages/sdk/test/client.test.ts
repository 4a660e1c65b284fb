import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer } from '@pocketenv/server/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { pocketenv } from '../src/index';

// Where a client's base URL and token come from, and that the one found is the one used.
describe('pocketenv.newClient', () => {
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'pocketenv-sdk-client-'));
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  async function tokenFile(dir: string, token: string): Promise<string> {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'token.json'), JSON.stringify({ token }));
    return dir;
  }

  it('takes the base URL from the argument, else POCKETENV_API_URL, else the local default', () => {
    vi.stubEnv('POCKETENV_API_URL', 'http://10.201.0.9:9000/');
    expect(pocketenv.newClient('t', { baseUrl: 'http://127.0.0.1:1234/' }).baseUrl).toBe('http://127.0.0.1:1234');
    expect(pocketenv.newClient('t').baseUrl).toBe('http://10.201.0.9:9000');
    vi.stubEnv('POCKETENV_API_URL', '');
    expect(pocketenv.newClient('t').baseUrl).toBe('http://127.0.0.1:8789');
    expect(pocketenv.newClient('t').storageUrl).toBe('http://127.0.0.1:8789');
  });

  it('takes the token from the argument, else POCKETENV_TOKEN, else $POCKETENV_DATA_DIR/token.json, else ~/.pocketenv/token.json', async () => {
    const home = join(scratch, 'home');
    await tokenFile(join(home, '.pocketenv'), 'from-home');
    const dataDir = await tokenFile(join(scratch, 'data'), 'from-data-dir');
    vi.stubEnv('HOME', home);
    vi.stubEnv('POCKETENV_DATA_DIR', dataDir);
    vi.stubEnv('POCKETENV_TOKEN', 'from-env');

    expect(pocketenv.newClient('from-arg').token).toBe('from-arg');
    expect(pocketenv.newClient().token).toBe('from-env');
    vi.stubEnv('POCKETENV_TOKEN', '');
    expect(pocketenv.newClient().token).toBe('from-data-dir');
    vi.stubEnv('POCKETENV_DATA_DIR', '');
    expect(pocketenv.newClient().token).toBe('from-home');
    expect(pocketenv.tokenFilePath()).toBe(join(home, '.pocketenv', 'token.json'));
    vi.stubEnv('HOME', join(scratch, 'nobody'));
    expect(pocketenv.newClient().token).toBeUndefined();
  });

  it('authenticates with the token it found in the token file', async () => {
    const server = await startTestServer();
    try {
      const carol = await server.createActor('carol');
      vi.stubEnv('POCKETENV_TOKEN', '');
      vi.stubEnv('POCKETENV_DATA_DIR', await tokenFile(join(scratch, 'carol'), carol.token));
      vi.stubEnv('POCKETENV_API_URL', server.url);
      const me = await pocketenv.getProfile(pocketenv.newClient());
      expect(me).toMatchObject({ handle: 'carol', did: carol.did });
    } finally {
      await server.close();
    }
  });
});
