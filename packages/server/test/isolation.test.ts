/**
 * Isolation levels through the real entry points: a `gvisor` sandbox created over HTTP runs
 * commands on gVisor's kernel (and says so in its view), levels are validated with 400s that
 * name what is possible, the operator's POCKETENV_ISOLATION_* settings are enforced, and the
 * CLI's --isolation reaches the server.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalProvider, type IsolationSupport } from '@pocketenv/runtime';
import { fetchPreview, startTestServer, type TestServer } from '@pocketenv/server/testing';
import { runCli } from '../../cli/test/run-cli';
import { Api } from './helpers';

const hasRunsc = await fs.access('/usr/bin/runsc').then(() => true, () => false);

/** Runs `fn` with POCKETENV_* variables set (the server reads them once, at start). */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe.runIf(hasRunsc)('isolation: gvisor sandboxes over HTTP', () => {
  let server: TestServer;
  let api: Api;

  beforeAll(async () => {
    server = await startTestServer({ log: false });
    api = new Api(server.url, server.ownerToken);
  }, 120_000);
  afterAll(() => server?.close());

  it('describeServer lists the levels: both available here, both allowed, standard the default', async () => {
    const { body } = await api.query('io.pocketenv.server.describeServer');
    const levels = Object.fromEntries((body.isolationLevels as { name: string; detail?: string }[]).map((l) => [l.name, l]));
    expect(levels.standard).toMatchObject({ available: true, allowed: true, default: true });
    expect(levels.gvisor).toMatchObject({ available: true, allowed: true, default: false });
    expect(levels.gvisor.detail).toMatch(/runsc .* platform \w+/);
    console.log(`[isolation] describeServer: ${JSON.stringify(body.isolationLevels)}`);
  });

  it('creates an isolation:"gvisor" sandbox that execs on gVisor\'s kernel, and a default one on the host kernel', async () => {
    const [gv, std] = await Promise.all([api.create({ name: 'iso-gvisor', isolation: 'gvisor' }), api.create({ name: 'iso-standard' })]);
    expect(gv).toMatchObject({ status: 'RUNNING', isolation: 'gvisor' });
    expect(std).toMatchObject({ status: 'RUNNING', isolation: 'standard' });
    expect((await api.get('iso-gvisor')).isolation).toBe('gvisor');
    const listed = (await api.query('io.pocketenv.sandbox.getSandboxes')).body.sandboxes as { name: string; isolation: string }[];
    expect(listed.find((s) => s.name === 'iso-gvisor')?.isolation).toBe('gvisor');

    const inGvisor = await api.exec(gv.id, 'uname -r; dmesg | head -1; echo from-$HOSTNAME');
    const inStandard = await api.exec(std.id, 'uname -r; cat /proc/version');
    console.log(`[isolation] kernel seen by the gvisor sandbox: ${JSON.stringify(inGvisor.stdout)}; by the standard one: ${JSON.stringify(inStandard.stdout)}`);
    expect(inGvisor).toMatchObject({ exitCode: 0 });
    expect(inGvisor.stdout).toMatch(/Starting gVisor/);
    expect(inGvisor.stdout).toContain('from-iso-gvisor');
    expect(inStandard.stdout.split('\n')[0]).toBe(os.release()); // the host's kernel
    expect(inStandard.stdout).not.toMatch(/gVisor/);
  }, 120_000);

  it('a service in the gvisor sandbox answers through its preview URL (gVisor netstack on the veth)', async () => {
    await api.exec('iso-gvisor', 'echo served-from-gvisor > /workspace/index.html');
    const added = await api.procedure('io.pocketenv.service.addService', { sandboxId: 'iso-gvisor' }, {
      service: { name: 'web', command: 'exec python3 -m http.server 8080 --directory /workspace', ports: [8080] },
    });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    const ports = (await api.query('io.pocketenv.sandbox.getExposedPorts', { id: 'iso-gvisor' })).body.ports as { port: number; previewUrl: string }[];
    const url = ports.find((p) => p.port === 8080)!.previewUrl;
    let body = '';
    for (let i = 0; i < 150 && body !== 'served-from-gvisor\n'; i++) {
      const res = await fetchPreview(url).catch(() => undefined);
      body = res?.status === 200 ? await res.text() : '';
      if (body !== 'served-from-gvisor\n') await new Promise((r) => setTimeout(r, 200));
    }
    expect(body).toBe('served-from-gvisor\n');
  }, 120_000);

  it('an unknown level is a 400 that lists the levels', async () => {
    const r = await api.procedure('io.pocketenv.sandbox.createSandbox', undefined, { base: 'debian', isolation: 'firecracker' });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('InvalidRequest');
    expect(r.body.message).toMatch(/isolation.*firecracker.*standard, gvisor/);
  });

  it('volumes cannot be added to a gvisor sandbox (400, says why)', async () => {
    const r = await api.procedure('io.pocketenv.volume.addVolume', undefined, { volume: { sandboxId: 'iso-gvisor', name: 'cache', path: '/cache' } });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/gVisor.*idmapped/);
  });

  it('the CLI creates with --isolation gvisor and shows the level in --json', async () => {
    const env = { POCKETENV_API_URL: server.url, POCKETENV_TOKEN: server.ownerToken };
    const r = await runCli(['create', 'iso-cli', '--isolation', 'gvisor', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'iso-cli', isolation: 'gvisor' });
    const bad = await runCli(['create', '--isolation', 'vm'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/standard, gvisor/);
  }, 120_000);
});

describe('isolation: the operator settings', () => {
  it('POCKETENV_ISOLATION_ALLOWED=standard: asking for gvisor is a 400 naming the variable; no sandbox is made', async () => {
    const server = await withEnv({ POCKETENV_ISOLATION_ALLOWED: 'standard' }, () => startTestServer({ log: false }));
    try {
      const api = new Api(server.url, server.ownerToken);
      const r = await api.procedure('io.pocketenv.sandbox.createSandbox', undefined, { base: 'debian', name: 'not-allowed', isolation: 'gvisor' });
      expect(r.status).toBe(400);
      expect(r.body.message).toContain('POCKETENV_ISOLATION_ALLOWED=standard');
      expect((await api.query('io.pocketenv.sandbox.getSandbox', { id: 'not-allowed' })).body.sandbox).toBeNull();
      const levels = (await api.query('io.pocketenv.server.describeServer')).body.isolationLevels as { name: string; allowed: boolean }[];
      expect(levels.find((l) => l.name === 'gvisor')?.allowed).toBe(false);
    } finally {
      await server.close();
    }
  }, 120_000);

  it('bad values are refused at start, naming the variable', async () => {
    await expect(withEnv({ POCKETENV_ISOLATION_ALLOWED: 'standard,vm' }, () => startTestServer({ log: false }))).rejects.toThrow(/POCKETENV_ISOLATION_ALLOWED: unknown isolation level "vm"/);
    await expect(withEnv({ POCKETENV_ISOLATION_ALLOWED: 'standard', POCKETENV_ISOLATION_DEFAULT: 'gvisor' }, () => startTestServer({ log: false }))).rejects.toThrow(
      /POCKETENV_ISOLATION_DEFAULT=gvisor is not in POCKETENV_ISOLATION_ALLOWED=standard/,
    );
  });

  it('POCKETENV_ISOLATION_DEFAULT=gvisor on a host where gVisor cannot run: the server refuses to start and says why', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-iso-'));
    // This host's runsc works; a provider reporting what a host without it reports stands in.
    class NoGvisorHere extends LocalProvider {
      override async isolationLevels(): Promise<IsolationSupport[]> {
        return [
          { level: 'standard', available: true, detail: 'crun' },
          { level: 'gvisor', available: false, detail: 'runsc (gVisor) is not installed: apt-get install -y runsc' },
        ];
      }
    }
    try {
      const provider = new NoGvisorHere({ stateDir: path.join(dataDir, 'runtime', 'local') });
      await expect(withEnv({ POCKETENV_ISOLATION_DEFAULT: 'gvisor' }, () => startTestServer({ dataDir, providers: [provider], log: false }))).rejects.toThrow(
        /POCKETENV_ISOLATION_DEFAULT=gvisor requires gvisor isolation, but provider local cannot run it here: runsc \(gVisor\) is not installed/,
      );
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});
