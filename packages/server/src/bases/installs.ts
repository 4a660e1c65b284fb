/**
 * How many sandboxes were created from each base: the `installs` describeServer shows next to
 * each base (the hosted service counted template installs the same way). A counter, not a
 * count of rows, so deleting sandboxes does not make a base look less used.
 */
import { sql } from 'kysely';
import type { Db } from '../db/index';
import { toCount } from '../db/index';

export async function countInstall(db: Db, provider: string, base: string): Promise<void> {
  await db
    .insertInto('base_installs')
    .values({ provider, base, installs: 1 })
    .onConflict((oc) => oc.columns(['provider', 'base']).doUpdateSet({ installs: sql`base_installs.installs + 1` }))
    .execute();
}

/** `provider/base` → installs. */
export async function installCounts(db: Db): Promise<Map<string, number>> {
  const rows = await db.selectFrom('base_installs').selectAll().execute();
  return new Map(rows.map((r) => [`${r.provider}/${r.base}`, toCount(r.installs)]));
}
