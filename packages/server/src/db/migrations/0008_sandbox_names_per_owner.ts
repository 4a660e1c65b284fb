/**
 * Sandbox names are unique per owner, not across the server: two actors may both have a
 * `demo`, and a 409 no longer tells one actor which names another uses. Ids stay global.
 *
 * PostgreSQL drops the column's unique constraint. SQLite cannot drop a column-level UNIQUE,
 * so the table is rebuilt (SQLite's documented procedure: foreign keys off, new table, copy,
 * drop, rename, indexes, foreign_key_check). The new table is made from the stored CREATE
 * statement with only that UNIQUE removed, so columns added by other migrations survive.
 */
import { sql, SqliteAdapter, type Kysely } from 'kysely';

const UNIQUE_PER_OWNER = 'sandboxes_owner_name_unique';

export async function up(db: Kysely<any>): Promise<void> {
  if (isSqlite(db)) {
    await rebuildSqliteSandboxes(db, (create) => {
      const changed = create.replace(/("name" text not null) unique\b/i, '$1');
      if (changed === create) throw new Error(`0008: the sandboxes table has no unique name column to change: ${create}`);
      return changed;
    });
  } else {
    await sql`alter table sandboxes drop constraint sandboxes_name_key`.execute(db);
  }
  await db.schema.createIndex(UNIQUE_PER_OWNER).on('sandboxes').columns(['owner_id', 'name']).unique().execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex(UNIQUE_PER_OWNER).execute();
  if (isSqlite(db)) {
    await rebuildSqliteSandboxes(db, (create) => create.replace(/("name" text not null)/i, '$1 unique'));
  } else {
    await sql`alter table sandboxes add constraint sandboxes_name_key unique (name)`.execute(db);
  }
}

function isSqlite(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof SqliteAdapter;
}

/**
 * Rebuilds `sandboxes` with the CREATE statement `revise` returns, keeping every row, every
 * index and every reference to it. Foreign keys must be off while the old table is dropped
 * (with them on, DROP TABLE deletes the rows first and ON DELETE CASCADE would empty the
 * attachment tables); the pragma only takes effect outside a transaction, which is where
 * Kysely runs SQLite migrations.
 */
async function rebuildSqliteSandboxes(db: Kysely<any>, revise: (createSql: string) => string): Promise<void> {
  const table = await sql<{ sql: string }>`select sql from sqlite_master where type = 'table' and name = 'sandboxes'`.execute(db);
  const indexes = await sql<{ sql: string }>`select sql from sqlite_master where type = 'index' and tbl_name = 'sandboxes' and sql is not null`.execute(db);
  const createSql = table.rows[0]?.sql;
  if (!createSql) throw new Error('0008: no sandboxes table');
  const createNew = revise(createSql).replace(/^create table "sandboxes"/i, 'create table "sandboxes_rebuilt"');
  if (!createNew.startsWith('create table "sandboxes_rebuilt"')) throw new Error(`0008: unexpected sandboxes table definition: ${createSql}`);

  await sql`pragma foreign_keys = off`.execute(db);
  try {
    await db.transaction().execute(async (trx) => {
      await sql.raw(createNew).execute(trx);
      await sql`insert into sandboxes_rebuilt select * from sandboxes`.execute(trx);
      await sql`drop table sandboxes`.execute(trx);
      await sql`alter table sandboxes_rebuilt rename to sandboxes`.execute(trx);
      for (const index of indexes.rows) await sql.raw(index.sql).execute(trx);
      const broken = await sql`pragma foreign_key_check`.execute(trx);
      if (broken.rows.length > 0) throw new Error(`0008: foreign keys broken by the rebuild: ${JSON.stringify(broken.rows.slice(0, 5))}`);
    });
  } finally {
    await sql`pragma foreign_keys = on`.execute(db);
  }
}
