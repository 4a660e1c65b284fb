/**
 * A sandbox keeps the provider name its creator asked for (`requested_provider`, e.g. a hosted
 * name such as `cloudflare`, which the official CLI's console switches on) next to the provider
 * that runs it (`provider`, which everything that drives the sandbox uses). Rows made before
 * this migration asked for the provider that runs them.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sandboxes').addColumn('requested_provider', 'text').execute();
  await sql`UPDATE sandboxes SET requested_provider = provider`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sandboxes').dropColumn('requested_provider').execute();
}
