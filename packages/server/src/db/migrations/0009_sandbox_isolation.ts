/**
 * Each sandbox's isolation level (`standard` | `gvisor`), chosen at create and fixed for its life.
 * Sandboxes made before levels existed are `standard`, which is what they are.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sandboxes').addColumn('isolation', 'text', (c) => c.notNull().defaultTo('standard')).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sandboxes').dropColumn('isolation').execute();
}
