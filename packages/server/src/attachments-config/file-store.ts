/** Files: a path in the sandbox and the client's sealed content. Reads that serve a caller are scoped by owner. */
import type { Selectable } from 'kysely';
import type { Db } from '../db/index';
import { toCount } from '../db/index';
import type { FileTable } from '../db/schema';
import { nowIso } from '../ids';
import { attachmentId } from './ids';

export type FileRow = Selectable<FileTable>;

export class FileStore {
  constructor(private readonly db: Db) {}

  /** Inserts a file; a path the sandbox already has is a unique violation (the caller's 409). */
  async insert(sandboxId: string, path: string, sealedContent: string): Promise<FileRow> {
    const now = nowIso();
    const row: FileRow = { id: attachmentId('fil'), sandbox_id: sandboxId, path, sealed_content: sealedContent, created_at: now, updated_at: now };
    await this.db.insertInto('files').values(row).execute();
    return row;
  }

  forSandbox(sandboxId: string): Promise<FileRow[]> {
    return this.db.selectFrom('files').selectAll().where('sandbox_id', '=', sandboxId).orderBy('created_at').orderBy('id').execute();
  }

  async page(ownerId: string, sandboxId: string | undefined, limit: number, offset: number): Promise<{ rows: FileRow[]; total: number }> {
    let base = this.db
      .selectFrom('files')
      .innerJoin('sandboxes', 'sandboxes.id', 'files.sandbox_id')
      .where('sandboxes.owner_id', '=', ownerId);
    if (sandboxId !== undefined) base = base.where('files.sandbox_id', '=', sandboxId);
    const [rows, count] = await Promise.all([
      base.selectAll('files').orderBy('files.created_at', 'desc').orderBy('files.id', 'desc').limit(limit).offset(offset).execute(),
      base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { rows, total: toCount(count.n) };
  }

  findOwned(ownerId: string, id: string): Promise<FileRow | undefined> {
    return this.db
      .selectFrom('files')
      .innerJoin('sandboxes', 'sandboxes.id', 'files.sandbox_id')
      .selectAll('files')
      .where('sandboxes.owner_id', '=', ownerId)
      .where('files.id', '=', id)
      .executeTakeFirst();
  }

  async update(id: string, patch: { path?: string; sealed_content?: string }): Promise<void> {
    await this.db.updateTable('files').set({ ...patch, updated_at: nowIso() }).where('id', '=', id).execute();
  }

  /** Puts a row back as it was (undoing an update the sandbox refused). */
  async restore(row: FileRow): Promise<void> {
    await this.db.updateTable('files').set({ path: row.path, sealed_content: row.sealed_content, updated_at: row.updated_at }).where('id', '=', row.id).execute();
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom('files').where('id', '=', id).execute();
  }
}
