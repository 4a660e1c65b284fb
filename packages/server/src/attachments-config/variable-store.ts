/** Variables: plaintext name/value pairs of a sandbox. Reads that serve a caller are scoped by owner. */
import type { Selectable } from 'kysely';
import type { Db } from '../db/index';
import { toCount } from '../db/index';
import type { VariableTable } from '../db/schema';
import { nowIso } from '../ids';
import { attachmentId } from './ids';

export type VariableRow = Selectable<VariableTable>;

export class VariableStore {
  constructor(private readonly db: Db) {}

  /** Adds the variable, or changes the value of the sandbox's variable of that name. */
  async put(sandboxId: string, name: string, value: string): Promise<VariableRow> {
    const now = nowIso();
    await this.db
      .insertInto('variables')
      .values({ id: attachmentId('var'), sandbox_id: sandboxId, name, value, created_at: now, updated_at: now })
      .onConflict((oc) => oc.columns(['sandbox_id', 'name']).doUpdateSet({ value, updated_at: now }))
      .execute();
    return this.db.selectFrom('variables').selectAll().where('sandbox_id', '=', sandboxId).where('name', '=', name).executeTakeFirstOrThrow();
  }

  /** Every variable of a sandbox (for the environment of its processes). */
  forSandbox(sandboxId: string): Promise<VariableRow[]> {
    return this.db.selectFrom('variables').selectAll().where('sandbox_id', '=', sandboxId).orderBy('name').execute();
  }

  /** The owner's variables (of one sandbox when given), newest first. */
  async page(ownerId: string, sandboxId: string | undefined, limit: number, offset: number): Promise<{ rows: VariableRow[]; total: number }> {
    let base = this.db
      .selectFrom('variables')
      .innerJoin('sandboxes', 'sandboxes.id', 'variables.sandbox_id')
      .where('sandboxes.owner_id', '=', ownerId);
    if (sandboxId !== undefined) base = base.where('variables.sandbox_id', '=', sandboxId);
    const [rows, count] = await Promise.all([
      base.selectAll('variables').orderBy('variables.created_at', 'desc').orderBy('variables.id', 'desc').limit(limit).offset(offset).execute(),
      base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { rows, total: toCount(count.n) };
  }

  /** One of the owner's variables; undefined when it does not exist or is someone else's. */
  findOwned(ownerId: string, id: string): Promise<VariableRow | undefined> {
    return this.db
      .selectFrom('variables')
      .innerJoin('sandboxes', 'sandboxes.id', 'variables.sandbox_id')
      .selectAll('variables')
      .where('sandboxes.owner_id', '=', ownerId)
      .where('variables.id', '=', id)
      .executeTakeFirst();
  }

  async update(id: string, patch: { name?: string; value?: string }): Promise<void> {
    await this.db.updateTable('variables').set({ ...patch, updated_at: nowIso() }).where('id', '=', id).execute();
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom('variables').where('id', '=', id).execute();
  }
}
