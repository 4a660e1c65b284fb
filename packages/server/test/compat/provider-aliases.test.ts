/**
 * Hosted provider names (the official CLI sends `cloudflare` by default, and refuses any name
 * but the hosted ones) run on a provider this server has: POCKETENV_PROVIDER_ALIASES decides
 * which, describeServer shows it, a bad setting stops the server before it listens, and rows
 * made before migration 0007 keep working. The official CLI's own create is in cli.test.ts.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Kysely, Migrator } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalProvider, type Provider } from '@pocketenv/runtime';
import { createPostgresDialect } from '../../src/db/postgres';
import { createSqliteDialect } from '../../src/db/sqlite';
import { migrationProvider } from '../../src/db/migrations/index';
import type { Database, SandboxRecord } from '../../src/db/schema';
import { toSandboxView } from '../../src/sandboxes/view';
import { startTestServer, type TestServer } from '../../src/testing';
import { ServerProcess, startTestServerWithEnv } from '../helpers';
import { FLAVOURS, WireClient, ok } from './wire';

const HOSTED = ['cloudflare', 'daytona', 'deno', 'vercel', 'sprites', 'modal', 'e2b', 'hopx', 'runloop', 'blaxel'];

describe('by default', () => {
  let server: TestServer;
  let client: WireClient;
  beforeAll(async () => {
    // Only the local provider (a Docker Engine may answer on this host): the mapping and the
    // accepted names below are those of a server that runs `local` alone.
    server = await startTestServerWithEnv({ POCKETENV_DOCKER: 'off' });
    client = new WireClient(server.url, server.ownerToken, FLAVOURS.js);
  });
  afterAll(async () => server?.close());

  it('describeServer maps every hosted name to the default provider', async () => {
    const described = ok(await client.get('io.pocketenv.server.describeServer'));
    expect(described.providers.map((p: { name: string }) => p.name)).toEqual(['local']);
    expect(described.providerAliases).toEqual(HOSTED.map((name) => ({ name, runsOn: 'local' })));
  });

  it('an unknown provider is a 400 that lists every accepted name', async () => {
    const answer = await client.post('io.pocketenv.sandbox.createSandbox', {}, { base: 'debian', provider: 'digitalocean' });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      error: 'InvalidRequest',
      message: `provider: unknown provider "digitalocean"; accepted: local, ${HOSTED.join(', ')}`,
    });
    expect(ok(await client.get('io.pocketenv.sandbox.getSandboxes')).total).toBe(0);
  });
});

/** The same LocalProvider under another name, counting the commands it runs. */
function renamed(real: Provider, name: string): Provider & { execs: number } {
  let execs = 0;
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'name') return name;
      if (prop === 'execs') return execs;
      if (prop === 'exec') {
        return (...args: Parameters<Provider['exec']>) => {
          execs++;
          return target.exec(...args);
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as Provider & { execs: number };
}

describe('POCKETENV_PROVIDER_ALIASES with two providers', () => {
  let server: TestServer;
  let client: WireClient;
  let second: ReturnType<typeof renamed>;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-aliases-'));
    const local = new LocalProvider({ stateDir: path.join(dataDir, 'runtime', 'local') });
    second = renamed(local, 'second');
    server = await startTestServer({ dataDir, providers: [local, second], providerAliases: 'daytona=second, e2b=second' });
    client = new WireClient(server.url, server.ownerToken, FLAVOURS.js);
  });
  afterAll(async () => {
    await server?.close();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('describeServer shows the operator’s mapping; names it leaves out run on the default provider', async () => {
    const aliases = ok(await client.get('io.pocketenv.server.describeServer')).providerAliases as Array<{ name: string; runsOn: string }>;
    expect(Object.fromEntries(aliases.map((a) => [a.name, a.runsOn]))).toEqual({
      ...Object.fromEntries(HOSTED.map((name) => [name, 'local'])),
      daytona: 'second',
      e2b: 'second',
    });
  });

  it('a sandbox created as daytona keeps that name and is driven by the provider it maps to', async () => {
    const created = ok(await client.post('io.pocketenv.sandbox.createSandbox', {}, { base: 'debian', name: 'aliased', provider: 'daytona' }));
    expect(created).toMatchObject({ name: 'aliased', provider: 'daytona', runsOn: 'second', status: 'RUNNING' });
    const before = second.execs;
    expect(ok(await client.post('io.pocketenv.sandbox.exec', { id: 'aliased' }, { command: 'hostname' })).stdout).toBe('aliased\n');
    expect(second.execs).toBe(before + 1);
    ok(await client.post('io.pocketenv.sandbox.stopSandbox', { id: 'aliased' }));
    ok(await client.post('io.pocketenv.sandbox.startSandbox', { id: 'aliased' }, {}));
    const listed = ok(await client.get('io.pocketenv.sandbox.getSandboxes')).sandboxes;
    expect(listed).toEqual([expect.objectContaining({ name: 'aliased', provider: 'daytona', runsOn: 'second', status: 'RUNNING' })]);
    ok(await client.post('io.pocketenv.sandbox.deleteSandbox', { id: 'aliased' }));
  });
});

describe('a bad POCKETENV_PROVIDER_ALIASES', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-badalias-'));
  });
  afterAll(async () => {
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  it.each([
    ['cloudflare=docker', /POCKETENV_PROVIDER_ALIASES: cloudflare=docker names provider "docker", which this server does not run \(it runs: local\)/],
    ['cloudflare', /POCKETENV_PROVIDER_ALIASES: "cloudflare" is not NAME=PROVIDER \(e\.g\. cloudflare=local\)/],
    ['digitalocean=local', /POCKETENV_PROVIDER_ALIASES: "digitalocean" is not a hosted provider name; the names are cloudflare, daytona/],
    ['cloudflare=local,cloudflare=local', /POCKETENV_PROVIDER_ALIASES: cloudflare is mapped twice/],
  ])('%s stops the server before it listens, with a message naming the variable', async (setting, message) => {
    const started = ServerProcess.start(dataDir, { POCKETENV_PROVIDER_ALIASES: setting, POCKETENV_DOCKER: 'off' });
    await expect(started).rejects.toThrow(/server exited \(1\) before listening/);
    await expect(started).rejects.toThrow(message);
  });
});

describe('sandboxes made before migration 0007', () => {
  /** Migrates a fresh database to 0006, stores a sandbox the old way, then migrates to the latest. */
  async function upgrade(db: Kysely<Database>): Promise<SandboxRecord> {
    const migrator = new Migrator({ db, provider: migrationProvider });
    expect((await migrator.migrateTo('0006_token_expiry')).error).toBeUndefined();
    const now = new Date().toISOString();
    await db.insertInto('actors').values({ id: 'act_old', did: 'did:web:localhost:u:old', handle: 'old', display_name: null, created_at: now, updated_at: now }).execute();
    const old = {
      id: 'sbx_old', owner_id: 'act_old', name: 'old-box', display_name: null, provider: 'local', base: 'debian', description: null, topics: null,
      repo: null, readme: null, logo: null, vcpus: 1, memory: 1, disk: 3, pids: 1024, keep_alive: 0, status: 'STOPPED' as const, error: null,
      desired_state: 'stopped' as const, provisioned: 1, created_at: now, updated_at: now, started_at: null, last_active_at: now,
    };
    await (db as Kysely<any>).insertInto('sandboxes').values(old).execute();
    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    return db.selectFrom('sandboxes').selectAll().where('id', '=', 'sbx_old').executeTakeFirstOrThrow();
  }

  it('on SQLite: they asked for the provider that runs them', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-0007-'));
    const db = new Kysely<Database>({ dialect: createSqliteDialect(path.join(dir, 'pocketenv.db')) });
    try {
      const row = await upgrade(db);
      expect(row).toMatchObject({ provider: 'local', requested_provider: 'local' });
      expect(toSandboxView(row)).toMatchObject({ provider: 'local', runsOn: 'local' });
    } finally {
      await db.destroy();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  const adminUrl = process.env.POCKETENV_TEST_DATABASE_URL;
  it.skipIf(!adminUrl)('on PostgreSQL: the same', async () => {
    const name = `pocketenv_0007_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(adminUrl!);
    url.pathname = `/${name}`;
    const db = new Kysely<Database>({ dialect: await createPostgresDialect(url.toString()) });
    try {
      const row = await upgrade(db);
      expect(row).toMatchObject({ provider: 'local', requested_provider: 'local' });
    } finally {
      await db.destroy();
      await admin.query(`DROP DATABASE ${name}`);
      await admin.end();
    }
  });
});
