/**
 * What a sandbox is configured with: variables, secrets, files, an SSH key pair and a
 * Tailscale auth key. Sealed values are stored as the client sent them (libsodium sealed
 * boxes, base64url): the plaintext of a secret, a file, a private key or an auth key is
 * never written to the database. Every row goes with its sandbox (ON DELETE CASCADE).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('variables')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('sandbox_id', 'text', (c) => c.notNull().references('sandboxes.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('variables_sandbox_name_uq', ['sandbox_id', 'name'])
    .execute();
  await db.schema.createIndex('variables_sandbox_created_idx').on('variables').columns(['sandbox_id', 'created_at', 'id']).execute();

  await db.schema
    .createTable('secrets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('sandbox_id', 'text', (c) => c.notNull().references('sandboxes.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('sealed_value', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('secrets_sandbox_name_uq', ['sandbox_id', 'name'])
    .execute();
  await db.schema.createIndex('secrets_sandbox_created_idx').on('secrets').columns(['sandbox_id', 'created_at', 'id']).execute();

  await db.schema
    .createTable('files')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('sandbox_id', 'text', (c) => c.notNull().references('sandboxes.id').onDelete('cascade'))
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('sealed_content', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('files_sandbox_path_uq', ['sandbox_id', 'path'])
    .execute();
  await db.schema.createIndex('files_sandbox_created_idx').on('files').columns(['sandbox_id', 'created_at', 'id']).execute();

  // One key pair and one auth key per sandbox: the sandbox id is the key.
  await db.schema
    .createTable('ssh_keys')
    .addColumn('sandbox_id', 'text', (c) => c.primaryKey().references('sandboxes.id').onDelete('cascade'))
    .addColumn('sealed_private_key', 'text', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('redacted', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('tailscale_keys')
    .addColumn('sandbox_id', 'text', (c) => c.primaryKey().references('sandboxes.id').onDelete('cascade'))
    .addColumn('sealed_auth_key', 'text', (c) => c.notNull())
    .addColumn('redacted', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['tailscale_keys', 'ssh_keys', 'files', 'secrets', 'variables']) {
    await db.schema.dropTable(table).execute();
  }
}
