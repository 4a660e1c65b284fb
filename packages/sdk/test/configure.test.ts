/**
 * How the object API finds its server, token and sealing key: `Sandbox.configure()` arguments,
 * then POCKETENV_TOKEN / POCKETENV_API_URL / POCKETENV_PUBLIC_KEY, then the token file
 * (`~/.pocketenv/token.json`, or `$POCKETENV_DATA_DIR/token.json`), as the official SDK does
 * plus our defaults; lazily when configure() was never called; per call when a call brings its
 * own settings. Each test loads a fresh copy of the SDK (its configuration is process-wide).
 * One sandbox.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startTestServer, type TestServer } from '@pocketenv/server/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

type Sdk = typeof import('../src/index');

let server: TestServer;
let alice: string;
let bob: string;
let tmp: string;
const savedEnv = { ...process.env };

beforeAll(async () => {
  server = await startTestServer();
  alice = (await server.createActor('alice')).token;
  bob = (await server.createActor('bob')).token;
  tmp = await mkdtemp(path.join(os.tmpdir(), 'sdk-configure-'));
});

afterEach(() => {
  process.env = { ...savedEnv };
});

afterAll(async () => {
  process.env = savedEnv;
  if (tmp) await rm(tmp, { recursive: true, force: true });
  await server?.close();
});

/** A fresh SDK, with an environment that has only what the test sets. */
async function freshSdk(env: Record<string, string | undefined>): Promise<Sdk> {
  for (const key of ['POCKETENV_TOKEN', 'POCKETENV_API_URL', 'POCKETENV_PUBLIC_KEY', 'POCKETENV_DATA_DIR', 'POCKETENV_STORAGE_URL']) delete process.env[key];
  process.env.HOME = path.join(tmp, `home-${Math.random().toString(36).slice(2)}`); // no token file unless written
  for (const [key, value] of Object.entries(env)) if (value !== undefined) process.env[key] = value;
  vi.resetModules();
  return import('../src/index');
}

async function writeToken(dir: string, token: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'token.json'), JSON.stringify({ token }));
}

async function whoami(sdk: Sdk, opts?: Parameters<Sdk['Sandbox']['getProfile']>[0]): Promise<string> {
  return (await sdk.Sandbox.getProfile(opts)).handle;
}

describe('the token', () => {
  it('comes from configure() first, then POCKETENV_TOKEN, then the token file', async () => {
    let sdk = await freshSdk({ POCKETENV_API_URL: server.url, POCKETENV_TOKEN: alice });
    sdk.Sandbox.configure({ token: bob });
    expect(await whoami(sdk)).toBe('bob');

    sdk = await freshSdk({ POCKETENV_API_URL: server.url, POCKETENV_TOKEN: alice });
    await writeToken(path.join(process.env.HOME!, '.pocketenv'), bob);
    sdk.Sandbox.configure();
    expect(await whoami(sdk)).toBe('alice');

    sdk = await freshSdk({ POCKETENV_API_URL: server.url });
    await writeToken(path.join(process.env.HOME!, '.pocketenv'), bob);
    sdk.Sandbox.configure();
    expect(await whoami(sdk)).toBe('bob');

    const dataDir = path.join(tmp, 'data');
    await writeToken(dataDir, alice);
    sdk = await freshSdk({ POCKETENV_API_URL: server.url, POCKETENV_DATA_DIR: dataDir });
    expect(await whoami(sdk)).toBe('alice'); // without configure(): read on first use
  });

  it('is required: configure() and the first call say where it is looked for', async () => {
    const sdk = await freshSdk({ POCKETENV_API_URL: server.url });
    expect(() => sdk.Sandbox.configure()).toThrow(sdk.AuthenticationError);
    expect(() => sdk.Sandbox.configure()).toThrow(/POCKETENV_TOKEN.*token\.json/);
    await expect(sdk.Sandbox.list()).rejects.toBeInstanceOf(sdk.AuthenticationError);
  });
});

describe('the server and the sealing key', () => {
  it('uses configure({ baseUrl }) over POCKETENV_API_URL, and POCKETENV_API_URL without it', async () => {
    let sdk = await freshSdk({ POCKETENV_API_URL: 'http://127.0.0.1:9', POCKETENV_TOKEN: alice });
    sdk.Sandbox.configure({ baseUrl: server.url });
    expect(await whoami(sdk)).toBe('alice');

    sdk = await freshSdk({ POCKETENV_API_URL: 'http://127.0.0.1:9', POCKETENV_TOKEN: alice });
    await expect(sdk.Sandbox.getProfile()).rejects.toBeInstanceOf(sdk.HttpError); // nothing listens on port 9
  });

  it('gives a call its own client: its token, or another server without the configured token', async () => {
    const sdk = await freshSdk({ POCKETENV_TOKEN: bob });
    sdk.Sandbox.configure({ token: alice, baseUrl: server.url });
    expect(await whoami(sdk)).toBe('alice');
    expect(await whoami(sdk, { token: bob })).toBe('bob');
    // Another base URL (the same server, spelled differently): the token comes from the environment.
    expect(await whoami(sdk, { baseUrl: server.url.replace('127.0.0.1', 'localhost') })).toBe('bob');
    const client = sdk.pocketenv.newClient(bob, { baseUrl: server.url });
    expect(await whoami(sdk, { client })).toBe('bob');
  });

  it('seals with configure({ publicKey }) over POCKETENV_PUBLIC_KEY (without either, with the server’s own key: see official-examples)', async () => {
    const wrongKey = '22'.repeat(32);
    let sdk = await freshSdk({ POCKETENV_API_URL: server.url, POCKETENV_TOKEN: alice, POCKETENV_PUBLIC_KEY: wrongKey });
    await expect(sdk.Sandbox.create({ base: 'debian', secrets: [{ name: 'S', value: 'v' }] })).rejects.toBeInstanceOf(sdk.InvalidArgumentError);

    const { publicKey } = await sdk.pocketenv.describeServer(sdk.pocketenv.newClient(undefined, { baseUrl: server.url }));
    sdk.Sandbox.configure({ publicKey });
    const sb = await sdk.Sandbox.create({ base: 'debian', name: 'sealed', secrets: [{ name: 'S', value: 'v' }] });
    expect((await sb.sh`echo $S`).stdout).toBe('v\n');
    await sb.delete();
  });
});
