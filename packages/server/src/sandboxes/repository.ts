/**
 * Sandbox records. Every read that serves a caller is scoped by owner, so ownership is
 * enforced by the query itself and another actor's sandbox is simply "not found".
 */
import type { Db } from '../db/index';
import { toCount } from '../db/index';
import type { NewSandboxRecord, SandboxRecord, SandboxStatus, SandboxUpdate } from '../db/schema';
import { nowIso } from '../ids';

export interface ListQuery {
  limit: number;
  offset: number;
  status?: SandboxStatus;
}

export class SandboxRepository {
  constructor(private readonly db: Db) {}

  async insert(record: NewSandboxRecord): Promise<void> {
    await this.db.insertInto('sandboxes').values(record).execute();
  }

  async findById(id: string): Promise<SandboxRecord | undefined> {
    return this.db.selectFrom('sandboxes').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * Looks a sandbox up by id or name, among the owner's sandboxes only: names are unique per
   * owner (another actor may have a sandbox of the same name, which is never found here).
   */
  async findOwned(ownerId: string, idOrName: string): Promise<SandboxRecord | undefined> {
    return this.db
      .selectFrom('sandboxes')
      .selectAll()
      .where('owner_id', '=', ownerId)
      .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
      .executeTakeFirst();
  }

  /**
   * Makes an unowned sandbox the owner's; returns it, or undefined when there was none to
   * claim. Names are unique per owner only, so several unowned sandboxes may share a name:
   * one is claimed, by id. A unique violation means the owner already has that name.
   */
  async claimUnowned(ownerId: string, idOrName: string): Promise<SandboxRecord | undefined> {
    const unowned = await this.db
      .selectFrom('sandboxes')
      .select('id')
      .where('owner_id', 'is', null)
      .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
      .orderBy('created_at', 'asc')
      .executeTakeFirst();
    if (!unowned) return undefined;
    const result = await this.db
      .updateTable('sandboxes')
      .set({ owner_id: ownerId, updated_at: nowIso() })
      .where('id', '=', unowned.id)
      .where('owner_id', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return undefined;
    return this.findById(unowned.id);
  }

  /** The owner's sandboxes, newest first; ties broken by id so pages never overlap. */
  async listOwned(ownerId: string, q: ListQuery): Promise<{ records: SandboxRecord[]; total: number }> {
    let base = this.db.selectFrom('sandboxes').where('owner_id', '=', ownerId);
    if (q.status) base = base.where('status', '=', q.status);
    const [records, count] = await Promise.all([
      base.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(q.limit).offset(q.offset).execute(),
      base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { records, total: toCount(count.n) };
  }

  async listAll(): Promise<SandboxRecord[]> {
    return this.db.selectFrom('sandboxes').selectAll().orderBy('created_at', 'asc').execute();
  }

  async listByStatus(status: SandboxStatus): Promise<SandboxRecord[]> {
    return this.db.selectFrom('sandboxes').selectAll().where('status', '=', status).execute();
  }

  /** Running (not paused) keepAlive:false sandboxes whose last activity is older than `cutoff`. */
  async listIdle(cutoff: string): Promise<SandboxRecord[]> {
    return this.db
      .selectFrom('sandboxes')
      .selectAll()
      .where('status', '=', 'RUNNING')
      .where('paused_at', 'is', null)
      .where('keep_alive', '=', 0)
      .where('desired_state', '=', 'running')
      .where('last_active_at', '<', cutoff)
      .execute();
  }

  /** keepAlive:false sandboxes paused since before `cutoff`. */
  async listPausedSince(cutoff: string): Promise<SandboxRecord[]> {
    return this.db
      .selectFrom('sandboxes')
      .selectAll()
      .where('status', '=', 'RUNNING')
      .where('keep_alive', '=', 0)
      .where('desired_state', '=', 'running')
      .where('paused_at', '<', cutoff)
      .execute();
  }

  async update(id: string, patch: SandboxUpdate): Promise<void> {
    await this.db
      .updateTable('sandboxes')
      .set({ ...patch, updated_at: nowIso() })
      .where('id', '=', id)
      .execute();
  }

  async touch(id: string): Promise<void> {
    const now = nowIso();
    await this.db.updateTable('sandboxes').set({ last_active_at: now }).where('id', '=', id).execute();
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom('sandboxes').where('id', '=', id).execute();
  }
}
