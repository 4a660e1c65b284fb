/**
 * Volumes (an actor's named data) and attachments (a volume mounted into a sandbox at a path).
 * Every read that serves a caller is scoped by the caller's id, so another actor's volume or
 * attachment is simply not found.
 */
import { randomBytes } from 'node:crypto';
import type { Db } from '../db/index';
import { toCount } from '../db/index';
import { isUniqueViolation } from '../db/errors';
import type { SandboxVolumeTable, VolumeTable } from '../db/schema';
import { ConflictError, NotFoundError } from '../errors';
import { base62, nowIso } from '../ids';

export type VolumeRow = VolumeTable;
export type AttachmentRow = SandboxVolumeTable;
/** An attachment with its volume's name and owner. */
export type Attachment = AttachmentRow & { name: string; owner_id: string };

const newId = (prefix: string) => `${prefix}_${base62(randomBytes(16))}`;

function pathTaken(path: string): ConflictError {
  return new ConflictError(`volume.path: another volume of this sandbox is mounted at ${path}`);
}

export class VolumeRepository {
  constructor(private readonly db: Db) {}

  private attachments() {
    return this.db
      .selectFrom('sandbox_volumes as a')
      .innerJoin('volumes as v', 'v.id', 'a.volume_id')
      .selectAll('a')
      .select(['v.name as name', 'v.owner_id as owner_id']);
  }

  /** The caller's volume with this name, created (empty) when there is none yet. */
  private async findOrCreate(ownerId: string, name: string): Promise<{ volume: VolumeRow; created: boolean }> {
    const existing = await this.findByName(ownerId, name);
    if (existing) return { volume: existing, created: false };
    const now = nowIso();
    const row: VolumeRow = { id: newId('vdat'), owner_id: ownerId, name, created_at: now, updated_at: now };
    try {
      await this.db.insertInto('volumes').values(row).execute();
      return { volume: row, created: true };
    } catch (err) {
      // Created concurrently by another request of the same actor: use that one.
      const raced = isUniqueViolation(err) ? await this.findByName(ownerId, name) : undefined;
      if (raced) return { volume: raced, created: false };
      throw err;
    }
  }

  /**
   * Runs `link` with the caller's volume of this name (created when new); a volume created
   * here is removed again when `link` fails, so a refused attach leaves no empty volume behind.
   */
  async withNamedVolume<T>(ownerId: string, name: string, link: (volume: VolumeRow) => Promise<T>): Promise<T> {
    const { volume, created } = await this.findOrCreate(ownerId, name);
    try {
      return await link(volume);
    } catch (err) {
      // Only if still unattached (the foreign key refuses otherwise: someone attached it meanwhile).
      if (created) await this.db.deleteFrom('volumes').where('id', '=', volume.id).execute().catch(() => undefined);
      throw err;
    }
  }

  findByName(ownerId: string, name: string): Promise<VolumeRow | undefined> {
    return this.db.selectFrom('volumes').selectAll().where('owner_id', '=', ownerId).where('name', '=', name).executeTakeFirst();
  }

  async attach(sandboxId: string, volume: VolumeRow, path: string, readOnly: boolean): Promise<Attachment> {
    const now = nowIso();
    const row: AttachmentRow = { id: newId('vol'), sandbox_id: sandboxId, volume_id: volume.id, path, read_only: readOnly ? 1 : 0, created_at: now, updated_at: now };
    try {
      await this.db.insertInto('sandbox_volumes').values(row).execute();
    } catch (err) {
      throw isUniqueViolation(err) ? pathTaken(path) : err;
    }
    return { ...row, name: volume.name, owner_id: volume.owner_id };
  }

  /** An attachment of one of the caller's sandboxes; else NotFound. */
  async findOwned(ownerId: string, attachmentId: string): Promise<Attachment> {
    const found = await this.attachments()
      .innerJoin('sandboxes as s', 's.id', 'a.sandbox_id')
      .where('a.id', '=', attachmentId)
      .where('s.owner_id', '=', ownerId)
      .executeTakeFirst();
    if (!found) throw new NotFoundError(`volume ${JSON.stringify(attachmentId)} not found`);
    return found;
  }

  /** Attachments of the caller's sandboxes (of one sandbox when given), newest first. */
  async listOwned(ownerId: string, sandboxId: string | undefined, page: { limit: number; offset: number }): Promise<{ rows: Attachment[]; total: number }> {
    let base = this.db.selectFrom('sandbox_volumes as a').innerJoin('sandboxes as s', 's.id', 'a.sandbox_id').where('s.owner_id', '=', ownerId);
    if (sandboxId) base = base.where('a.sandbox_id', '=', sandboxId);
    const [ids, count] = await Promise.all([
      base.select('a.id').orderBy('a.created_at', 'desc').orderBy('a.id', 'desc').limit(page.limit).offset(page.offset).execute(),
      base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
    ]);
    const rows = ids.length ? await this.attachments().where('a.id', 'in', ids.map((r) => r.id)).execute() : [];
    const order = new Map(ids.map((r, i) => [r.id, i]));
    rows.sort((x, y) => order.get(x.id)! - order.get(y.id)!);
    return { rows, total: toCount(count.n) };
  }

  /** What a sandbox mounts, parents before the paths inside them. */
  async forSandbox(sandboxId: string): Promise<Attachment[]> {
    const rows = await this.attachments().where('a.sandbox_id', '=', sandboxId).execute();
    const depth = (p: string) => p.split('/').length;
    return rows.sort((x, y) => depth(x.path) - depth(y.path) || x.path.localeCompare(y.path));
  }

  async update(attachment: Attachment, patch: { volume?: VolumeRow; path?: string; readOnly?: boolean }): Promise<void> {
    const path = patch.path ?? attachment.path;
    try {
      await this.db
        .updateTable('sandbox_volumes')
        .set({
          volume_id: patch.volume?.id ?? attachment.volume_id,
          path,
          read_only: patch.readOnly === undefined ? attachment.read_only : patch.readOnly ? 1 : 0,
          updated_at: nowIso(),
        })
        .where('id', '=', attachment.id)
        .execute();
    } catch (err) {
      throw isUniqueViolation(err) ? pathTaken(path) : err;
    }
  }

  async detach(attachmentId: string): Promise<void> {
    await this.db.deleteFrom('sandbox_volumes').where('id', '=', attachmentId).execute();
  }

  /** The caller's volumes, newest first, with the sandboxes each is attached to. */
  async listVolumes(ownerId: string, page: { limit: number; offset: number }): Promise<{ rows: Array<VolumeRow & { sandboxIds: string[] }>; total: number }> {
    const base = this.db.selectFrom('volumes').where('owner_id', '=', ownerId);
    const [volumes, count] = await Promise.all([
      base.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit).offset(page.offset).execute(),
      base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
    ]);
    const links = volumes.length
      ? await this.db.selectFrom('sandbox_volumes').select(['volume_id', 'sandbox_id']).where('volume_id', 'in', volumes.map((v) => v.id)).execute()
      : [];
    const rows = volumes.map((v) => ({ ...v, sandboxIds: [...new Set(links.filter((l) => l.volume_id === v.id).map((l) => l.sandbox_id))] }));
    return { rows, total: toCount(count.n) };
  }

  /** Deletes a volume's row, refusing (409) while any sandbox has it attached. */
  async deleteVolume(volume: VolumeRow): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const attached = await tx.selectFrom('sandbox_volumes').select('sandbox_id').where('volume_id', '=', volume.id).execute();
      if (attached.length > 0) {
        throw new ConflictError(`volume ${volume.name} is attached to ${attached.length} sandbox(es) (${attached.map((a) => a.sandbox_id).join(', ')}); detach it with deleteVolume first`);
      }
      await tx.deleteFrom('volumes').where('id', '=', volume.id).execute();
    });
  }
}
