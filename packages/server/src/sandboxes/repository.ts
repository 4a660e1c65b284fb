/**
 * Sandbox records. Every read that serves a caller is scoped by owner, so ownership is
 * enforced by the query itself and another actor's sandbox is simply "not found".
 *
 * Activity (`touch`) is kept in memory and written in batches (see ActivityBuffer): an exec
 * used to cost two database writes. Every read here overlays the newest activity, and the
 * idle listing writes it first, so the idle reaper sees activity the moment it happens.
 */
import type { Db } from '../db/index';
import { toCount } from '../db/index';
import type { NewSandboxRecord, SandboxRecord, SandboxStatus, SandboxUpdate } from '../db/schema';
import { nowIso } from '../ids';
import { ActivityBuffer } from './activity';

export interface ListQuery {
  limit: number;
  offset: number;
  status?: SandboxStatus;
}

export class SandboxRepository {
  private readonly activity: ActivityBuffer;

  constructor(private readonly db: Db) {
    this.activity = new ActivityBuffer((id, at) => this.writeActivity(id, at));
  }

  async insert(record: NewSandboxRecord): Promise<void> {
    await this.db.insertInto('sandboxes').values(record).execute();
  }

  async findById(id: string): Promise<SandboxRecord | undefined> {
    return this.activity.overlay(await this.db.selectFrom('sandboxes').selectAll().where('id', '=', id).executeTakeFirst());
  }

  /**
   * Looks a sandbox up by id or name, among the owner's sandboxes only: names are unique per
   * owner (another actor may have a sandbox of the same name, which is never found here).
   */
  async findOwned(ownerId: string, idOrName: string): Promise<SandboxRecord | undefined> {
    return this.activity.overlay(
      await this.db
        .selectFrom('sandboxes')
        .selectAll()
        .where('owner_id', '=', ownerId)
        .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
        .executeTakeFirst(),
    );
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
    return { records: records.map((r) => this.activity.overlay(r)), total: toCount(count.n) };
  }

  async listAll(): Promise<SandboxRecord[]> {
    return (await this.db.selectFrom('sandboxes').selectAll().orderBy('created_at', 'asc').execute()).map((r) => this.activity.overlay(r));
  }

  async listByStatus(status: SandboxStatus): Promise<SandboxRecord[]> {
    return (await this.db.selectFrom('sandboxes').selectAll().where('status', '=', status).execute()).map((r) => this.activity.overlay(r));
  }

  /** Running (not paused) keepAlive:false sandboxes whose last activity is older than `cutoff`. */
  async listIdle(cutoff: string): Promise<SandboxRecord[]> {
    await this.activity.flush(); // the query decides on last_active_at: it must be current
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

  /**
   * Records activity now (exec, terminal, preview traffic…). Kept in memory and written within
   * a second; a crash loses at most that second of "last activity", which only makes an idle
   * sandbox look idle a second early.
   */
  async touch(id: string): Promise<void> {
    this.activity.record(id, nowIso());
  }

  /** Writes the activity still held in memory (at shutdown, before the database closes). */
  flushActivity(): Promise<void> {
    return this.activity.flush();
  }

  private async writeActivity(id: string, at: string): Promise<void> {
    // Never moves it back: a start or restart may have written a newer time meanwhile.
    await this.db.updateTable('sandboxes').set({ last_active_at: at }).where('id', '=', id).where('last_active_at', '<', at).execute();
  }

  async remove(id: string): Promise<void> {
    this.activity.forget(id);
    await this.db.deleteFrom('sandboxes').where('id', '=', id).execute();
  }
}
