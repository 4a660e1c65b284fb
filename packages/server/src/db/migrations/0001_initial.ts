/** Actors, their tokens, and sandbox records. */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('actors')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('did', 'text', (c) => c.notNull().unique())
    .addColumn('handle', 'text', (c) => c.notNull().unique())
    .addColumn('display_name', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('actor_id', 'text', (c) => c.notNull().references('actors.id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('tokens_actor_idx').on('tokens').column('actor_id').execute();

  await db.schema
    .createTable('sandboxes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('owner_id', 'text', (c) => c.references('actors.id').onDelete('restrict'))
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('display_name', 'text')
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('base', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('topics', 'text')
    .addColumn('repo', 'text')
    .addColumn('readme', 'text')
    .addColumn('logo', 'text')
    .addColumn('vcpus', 'integer', (c) => c.notNull())
    .addColumn('memory', 'integer', (c) => c.notNull())
    .addColumn('disk', 'integer', (c) => c.notNull())
    .addColumn('pids', 'integer', (c) => c.notNull())
    .addColumn('keep_alive', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('installs', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('desired_state', 'text', (c) => c.notNull())
    .addColumn('provisioned', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text')
    .addColumn('last_active_at', 'text', (c) => c.notNull())
    .execute();
  // Lists are "owner's sandboxes, newest first": one index serves both filter and order.
  await db.schema.createIndex('sandboxes_owner_created_idx').on('sandboxes').columns(['owner_id', 'created_at', 'id']).execute();
  await db.schema.createIndex('sandboxes_status_idx').on('sandboxes').column('status').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sandboxes').execute();
  await db.schema.dropTable('tokens').execute();
  await db.schema.dropTable('actors').execute();
}
