/**
 * Volumes (actor-owned named data and their attachments to sandboxes), services (supervised
 * processes of a sandbox) and exposed ports (with the preview token that makes up their URL).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('volumes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('owner_id', 'text', (c) => c.notNull().references('actors.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('volumes_owner_name_unique', ['owner_id', 'name'])
    .execute();

  await db.schema
    .createTable('sandbox_volumes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('sandbox_id', 'text', (c) => c.notNull().references('sandboxes.id').onDelete('cascade'))
    // restrict: a volume's data goes only through deleteVolumeData, which refuses while attached.
    .addColumn('volume_id', 'text', (c) => c.notNull().references('volumes.id').onDelete('restrict'))
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('read_only', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('sandbox_volumes_path_unique', ['sandbox_id', 'path'])
    .execute();
  await db.schema.createIndex('sandbox_volumes_volume_idx').on('sandbox_volumes').column('volume_id').execute();

  await db.schema
    .createTable('services')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('sandbox_id', 'text', (c) => c.notNull().references('sandboxes.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('command', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('ports', 'text', (c) => c.notNull())
    .addColumn('desired_state', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('services_sandbox_name_unique', ['sandbox_id', 'name'])
    .execute();

  await db.schema
    .createTable('ports')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('sandbox_id', 'text', (c) => c.notNull().references('sandboxes.id').onDelete('cascade'))
    .addColumn('port', 'integer', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('service_id', 'text', (c) => c.references('services.id').onDelete('cascade'))
    .addColumn('token', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('ports_sandbox_port_unique', ['sandbox_id', 'port'])
    .execute();
  await db.schema.createIndex('ports_service_idx').on('ports').column('service_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ports').execute();
  await db.schema.dropTable('services').execute();
  await db.schema.dropTable('sandbox_volumes').execute();
  await db.schema.dropTable('volumes').execute();
}
