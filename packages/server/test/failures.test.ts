/**
 * Provider failures are stored with their reason and visible in getSandbox, and a retry
 * works. The provider is the real LocalProvider, wrapped so that `start` fails once.
 */
import path from 'node:path';
import fs from 'node:fs/promises';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalProvider, ProviderError, type Provider } from '@pocketenv/runtime';
import { startTestServer, type TestServer } from '../src/testing';
import { Api } from './helpers';

/** The real provider, except that the next `start` throws the given error. */
function failingOnce(real: Provider): Provider & { failNextStart(message: string): void } {
  let nextFailure: string | undefined;
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'failNextStart') return (message: string) => (nextFailure = message);
      if (prop === 'start') {
        return async (...args: Parameters<Provider['start']>) => {
          if (nextFailure !== undefined) {
            const message = nextFailure;
            nextFailure = undefined;
            throw new ProviderError(message);
          }
          return target.start(...args);
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as Provider & { failNextStart(message: string): void };
}

let server: TestServer;
let api: Api;
let provider: ReturnType<typeof failingOnce>;

beforeAll(async () => {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-test-'));
  provider = failingOnce(new LocalProvider({ stateDir: path.join(dataDir, 'runtime', 'local') }));
  server = await startTestServer({ dataDir, providers: [provider] });
  api = new Api(server.url, server.ownerToken);
});

afterAll(async () => {
  const dataDir = server?.dataDir;
  await server?.close();
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

describe('a provider failure', () => {
  it('during create is a 502 and leaves an ERROR record with the reason; start retries', async () => {
    provider.failNextStart('simulated failure: no more veths');
    const reply = await api.procedure('io.pocketenv.sandbox.createSandbox', undefined, { base: 'debian', name: 'fails-once' });
    expect(reply.status).toBe(502);
    expect(reply.body.error).toBe('SandboxProviderError');
    expect(reply.body.message).toMatch(/fails-once.*simulated failure: no more veths/);

    const stored = await api.get('fails-once');
    expect(stored.status).toBe('ERROR');
    expect(stored.error).toMatch(/simulated failure: no more veths/);

    expect(await api.start('fails-once')).toEqual({});
    const recovered = await api.get('fails-once');
    expect(recovered.status).toBe('RUNNING');
    expect(recovered.error).toBeUndefined();
    expect((await api.exec('fails-once', 'echo recovered')).stdout).toBe('recovered\n');
  });

  it('during start is a 502 saying why, visible in getSandbox, and the files are kept', async () => {
    const sb = await api.create({ name: 'start-fails' });
    await api.exec(sb.id, 'echo precious > /workspace/data');
    await api.stop(sb.id);

    provider.failNextStart('simulated failure: cgroup busy');
    const reply = await api.procedure('io.pocketenv.sandbox.startSandbox', { id: sb.id }, {});
    expect(reply.status).toBe(502);
    expect(reply.body).toMatchObject({ error: 'SandboxProviderError' });
    expect(reply.body.message).toMatch(/simulated failure: cgroup busy/);
    expect(await api.get(sb.id)).toMatchObject({ status: 'ERROR', error: expect.stringMatching(/start failed: simulated failure: cgroup busy/) });

    const exec = await api.procedure('io.pocketenv.sandbox.exec', { id: sb.id }, { command: 'true' });
    expect(exec.status).toBe(400);

    await api.start(sb.id);
    expect((await api.exec(sb.id, 'cat /workspace/data')).stdout).toBe('precious\n');
  });
});
