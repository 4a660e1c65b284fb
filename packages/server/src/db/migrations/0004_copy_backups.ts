/**
 * The copy store (archives uploaded with POST /cp or made by pushDirectory) and backups.
 * The archives themselves are files under <dataDir>/copy and <dataDir>/backups; these rows
 * say whose they are, how big, their checksum and when they expire.
 *
 * A backup belongs to its actor, not to its sandbox: deleting the sandbox keeps the backup
 * (sandbox_id becomes NULL) until it expires, so it can still be restored into another one.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('copy_objects')
    .addColumn('uuid', 'text', (c) => c.primaryKey())
    .addColumn('owner_id', 'text', (c) => c.notNull().references('actors.id').onDelete('cascade'))
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('copy_objects_expires_idx').on('copy_objects').column('expires_at').execute();

  await db.schema
    .createTable('backups')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('owner_id', 'text', (c) => c.notNull().references('actors.id').onDelete('cascade'))
    .addColumn('sandbox_id', 'text', (c) => c.references('sandboxes.id').onDelete('set null'))
    .addColumn('directory', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  // getBackups: "this sandbox's backups, newest first".
  await db.schema.createIndex('backups_sandbox_created_idx').on('backups').columns(['sandbox_id', 'created_at', 'id']).execute();
  await db.schema.createIndex('backups_expires_idx').on('backups').column('expires_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('backups').execute();
  await db.schema.dropTable('copy_objects').execute();
}
