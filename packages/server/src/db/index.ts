/** Opens the database (SQLite in the data directory, or Postgres) and applies migrations. */
import path from 'node:path';
import { Kysely, Migrator } from 'kysely';
import type { Database } from './schema';
import { migrationProvider } from './migrations/index';
import { createSqliteDialect } from './sqlite';
import { createPostgresDialect } from './postgres';

export type Db = Kysely<Database>;

export interface OpenDatabaseOptions {
  dataDir: string;
  databaseUrl?: string;
}

export async function openDatabase(opts: OpenDatabaseOptions): Promise<Db> {
  const dialect = opts.databaseUrl
    ? await createPostgresDialect(opts.databaseUrl)
    : createSqliteDialect(path.join(opts.dataDir, 'pocketenv.db'));
  const db = new Kysely<Database>({ dialect });
  try {
    await migrate(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return db;
}

async function migrate(db: Db): Promise<void> {
  // Names are ASCII (0001_initial…): plain ordering. Kysely's default, localeCompare, loads ICU's
  // collation data into every server process (~3 MiB resident) just to sort them.
  const migrator = new Migrator({ db, provider: migrationProvider, nameComparator: (a, b) => (a < b ? -1 : a > b ? 1 : 0) });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const what = failed ? `migration ${failed.migrationName} failed` : 'migrations failed';
    throw new Error(`database ${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** `count(*)` is a number on SQLite and a bigint string on Postgres. */
export function toCount(value: unknown): number {
  return Number(value ?? 0);
}

export type { Database } from './schema';
