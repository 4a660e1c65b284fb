/** Secrets: names in clear, values only as the client's sealed boxes. Reads that serve a caller are scoped by owner. */
import type { Selectable } from 'kysely';
import type { Db } from '../db/index';
import { toCount } from '../db/index';
import type { SecretTable } from '../db/schema';
import { nowIso } from '../ids';
import { attachmentId } from './ids';

export type SecretRow = Selectable<SecretTable>;

export class SecretStore {
  constructor(private readonly db: Db) {}

  /** Adds the secret, or replaces the value of the sandbox's secret of that name. */
  async put(sandboxId: string, name: string, sealedValue: string): Promise<SecretRow> {
    const now = nowIso();
    await this.db
      .insertInto('secrets')
      .values({ id: attachmentId('sec'), sandbox_id: sandboxId, name, sealed_value: sealedValue, created_at: now, updated_at: now })
      .onConflict((oc) => oc.columns(['sandbox_id', 'name']).doUpdateSet({ sealed_value: sealedValue, updated_at: now }))
      .execute();
    return this.db.selectFrom('secrets').selectAll().where('sandbox_id', '=', sandboxId).where('name', '=', name).executeTakeFirstOrThrow();
  }

  forSandbox(sandboxId: string): Promise<SecretRow[]> {
    return this.db.selectFrom('secrets').selectAll().where('sandbox_id', '=', sandboxId).orderBy('name').execute();
  }

  async page(ownerId: string, sandboxId: string | undefined, limit: number, offset: number): Promise<{ rows: SecretRow[]; total: number }> {
    let base = this.db
      .selectFrom('secrets')
      .innerJoin('sandboxes', 'sandboxes.id', 'secrets.sandbox_id')
      .where('sandboxes.owner_id', '=', ownerId);
    if (sandboxId !== undefined) base = base.where('secrets.sandbox_id', '=', sandboxId);
    const [rows, count] = await Promise.all([
      base.selectAll('secrets').orderBy('secrets.created_at', 'desc').orderBy('secrets.id', 'desc').limit(limit).offset(offset).execute(),
      base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { rows, total: toCount(count.n) };
  }

  findOwned(ownerId: string, id: string): Promise<SecretRow | undefined> {
    return this.db
      .selectFrom('secrets')
      .innerJoin('sandboxes', 'sandboxes.id', 'secrets.sandbox_id')
      .selectAll('secrets')
      .where('sandboxes.owner_id', '=', ownerId)
      .where('secrets.id', '=', id)
      .executeTakeFirst();
  }

  async update(id: string, patch: { name?: string; sealed_value?: string }): Promise<void> {
    await this.db.updateTable('secrets').set({ ...patch, updated_at: nowIso() }).where('id', '=', id).execute();
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom('secrets').where('id', '=', id).execute();
  }
}
