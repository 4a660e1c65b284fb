/**
 * A running sandbox may be paused (frozen by its provider: processes and memory kept, no CPU).
 * `paused_at` is when it was paused, null when it is not: the status stays RUNNING, so quotas
 * count a paused sandbox as running and every "is it running?" check still holds (any use
 * resumes it first).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sandboxes').addColumn('paused_at', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sandboxes').dropColumn('paused_at').execute();
}
