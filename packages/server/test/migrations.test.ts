/**
 * Migration 0008 (sandbox names unique per owner) on a database that already has data: a
 * database is made at migration 0006, filled, then migrated to the latest (through 0007). Every row, index
 * and foreign key must survive (on SQLite the table is rebuilt), and afterwards names are
 * unique per owner only. Runs on SQLite, and on PostgreSQL when POCKETENV_TEST_DATABASE_URL
 * is set (scripts/postgres.sh).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Kysely, Migrator, sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migrationProvider } from '../src/db/migrations/index';
import { createPostgresDialect } from '../src/db/postgres';
import { createSqliteDialect } from '../src/db/sqlite';

const BEFORE = '0006_token_expiry';
const now = '2024-01-01T00:00:00.000Z';

function sandboxRow(id: string, owner: string, name: string) {
  return {
    id, owner_id: owner, name, display_name: null, provider: 'local', base: 'debian', description: `desc of ${id}`, topics: null, repo: null,
    readme: null, logo: null, vcpus: 1, memory: 2, disk: 3, pids: 1024, keep_alive: 0, installs: 0, status: 'STOPPED', error: null,
    desired_state: 'stopped', provisioned: 1, created_at: now, updated_at: now, started_at: null, last_active_at: now,
  };
}

async function migrate(db: Kysely<any>, to?: string): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error } = to ? await migrator.migrateTo(to) : await migrator.migrateToLatest();
  if (error) throw error;
}

/** The whole scenario, on one empty database. */
async function keepsRowsAndScopesNames(db: Kysely<any>): Promise<void> {
  await migrate(db, BEFORE);
  for (const a of ['act_alice', 'act_bob']) {
    await db.insertInto('actors').values({ id: a, did: `did:web:localhost:u:${a}`, handle: a, display_name: null, created_at: now, updated_at: now }).execute();
  }
  await db.insertInto('sandboxes').values([sandboxRow('sbx_a1', 'act_alice', 'demo'), sandboxRow('sbx_a2', 'act_alice', 'other'), sandboxRow('sbx_b1', 'act_bob', 'bobs')]).execute();
  await db.insertInto('variables').values({ id: 'var_1', sandbox_id: 'sbx_a1', name: 'GREETING', value: 'hi', created_at: now, updated_at: now }).execute();
  await db.insertInto('backups').values({ id: 'bkp_1', owner_id: 'act_alice', sandbox_id: 'sbx_a2', directory: '/workspace', description: null, size: 10, sha256: 'ab', expires_at: now, created_at: now }).execute();
  // Before: names are unique across the server.
  await expect(db.insertInto('sandboxes').values(sandboxRow('sbx_b2', 'act_bob', 'demo')).execute()).rejects.toThrow();
  const before = await db.selectFrom('sandboxes').selectAll().orderBy('id').execute();

  await migrate(db);

  // Every row and column is kept.
  // 0007 (on the way) records the provider each existing sandbox asked for: the one it runs on.
  expect(await db.selectFrom('sandboxes').selectAll().orderBy('id').execute()).toEqual(before.map((row) => ({ ...row, requested_provider: row.provider })));
  expect(await db.selectFrom('variables').select(['id', 'sandbox_id', 'value']).execute()).toEqual([{ id: 'var_1', sandbox_id: 'sbx_a1', value: 'hi' }]);
  // After: another owner may use the name, the same owner may not.
  await db.insertInto('sandboxes').values(sandboxRow('sbx_b2', 'act_bob', 'demo')).execute();
  await expect(db.insertInto('sandboxes').values(sandboxRow('sbx_a3', 'act_alice', 'demo')).execute()).rejects.toThrow();
  // Foreign keys still hold and still act: a variable needs its sandbox, deleting a sandbox
  // deletes its variables and detaches its backups.
  await expect(db.insertInto('variables').values({ id: 'var_2', sandbox_id: 'sbx_none', name: 'X', value: 'x', created_at: now, updated_at: now }).execute()).rejects.toThrow();
  await db.deleteFrom('sandboxes').where('id', '=', 'sbx_a1').execute();
  expect(await db.selectFrom('variables').selectAll().execute()).toEqual([]);
  await db.deleteFrom('sandboxes').where('id', '=', 'sbx_a2').execute();
  expect(await db.selectFrom('backups').select(['id', 'sandbox_id']).execute()).toEqual([{ id: 'bkp_1', sandbox_id: null }]);
  // An actor with sandboxes cannot be deleted (on delete restrict survived the rebuild).
  await expect(db.deleteFrom('actors').where('id', '=', 'act_bob').execute()).rejects.toThrow();

  // And back down: the global unique name returns (after the duplicate is gone).
  await db.deleteFrom('sandboxes').where('id', '=', 'sbx_b2').execute();
  await migrate(db, BEFORE);
  await expect(db.insertInto('sandboxes').values(sandboxRow('sbx_b3', 'act_bob', 'other')).execute()).resolves.toBeDefined();
  await expect(db.insertInto('sandboxes').values(sandboxRow('sbx_b4', 'act_alice', 'bobs')).execute()).rejects.toThrow();
}

describe('migration 0008 on SQLite', () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('keeps every row, index and foreign key of a filled database, and makes names unique per owner', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-migrate-'));
    const db = new Kysely<any>({ dialect: createSqliteDialect(path.join(dir, 'pocketenv.db')) });
    try {
      await keepsRowsAndScopesNames(db);
      const indexes = await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = 'sandboxes' order by name`.execute(db);
      expect(indexes.rows.map((r) => r.name)).toEqual(expect.arrayContaining(['sandboxes_owner_created_idx', 'sandboxes_status_idx']));
      expect((await sql`pragma foreign_keys`.execute(db)).rows).toEqual([{ foreign_keys: 1 }]);
    } finally {
      await db.destroy();
    }
  });
});

const adminUrl = process.env.POCKETENV_TEST_DATABASE_URL;
describe.skipIf(!adminUrl)('migration 0008 on PostgreSQL', () => {
  const database = `pocketenv_migrate_${randomBytes(4).toString('hex')}`;
  const admin = async (query: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(query);
    } finally {
      await client.end();
    }
  };
  afterAll(async () => {
    if (adminUrl) await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });

  it('keeps every row and foreign key of a filled database, and makes names unique per owner', async () => {
    await admin(`CREATE DATABASE ${database}`);
    const url = new URL(adminUrl!);
    url.pathname = `/${database}`;
    const db = new Kysely<any>({ dialect: await createPostgresDialect(url.toString()) });
    try {
      await keepsRowsAndScopesNames(db);
    } finally {
      await db.destroy();
    }
  });
});
