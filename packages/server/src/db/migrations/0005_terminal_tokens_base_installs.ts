/**
 * Terminal tokens (short-lived, single-use, stored hashed) and the per-base install counter
 * shown by describeServer.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('terminal_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('actor_id', 'text', (c) => c.notNull().references('actors.id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('terminal_tokens_expires_idx').on('terminal_tokens').column('expires_at').execute();

  await db.schema
    .createTable('base_installs')
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('base', 'text', (c) => c.notNull())
    .addColumn('installs', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('base_installs_pk', ['provider', 'base'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('base_installs').execute();
  await db.schema.dropTable('terminal_tokens').execute();
}
