/**
 * Backups: archives in <dataDir>/backups/<id>.tar.gz with a row each. A backup belongs to the
 * actor who made it; it outlives its sandbox (sandbox_id becomes NULL) until it expires, so it
 * can still be restored into another sandbox. Expired backups are invisible at once and
 * deleted by the sweeper.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ArchiveFileWriter } from '../copy/archive-file';
import { removeLeftovers } from '../copy/store';
import type { Db } from '../db/index';
import { toCount } from '../db/index';
import type { BackupTable } from '../db/schema';
import { base62, nowIso } from '../ids';

export interface Backup {
  id: string;
  ownerId: string;
  sandboxId: string | null;
  directory: string;
  description: string | null;
  size: number;
  sha256: string;
  createdAt: string;
  expiresAt: string;
}

export class BackupStore {
  private readonly startedAt = Date.now();

  constructor(
    private readonly db: Db,
    readonly dir: string,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  fileOf(id: string): string {
    return path.join(this.dir, `${id}.tar.gz`);
  }

  async prepare(): Promise<void> {
    await removeLeftovers(this.dir, this.startedAt, async () => new Set((await this.db.selectFrom('backups').select('id').execute()).map((r) => r.id)));
  }

  startWrite(maxBytes: number): { id: string; writer: ArchiveFileWriter } {
    const id = `bkp_${base62(randomBytes(16))}`;
    return { id, writer: new ArchiveFileWriter(path.join(this.dir, `${id}.part`), maxBytes) };
  }

  async commit(
    writer: ArchiveFileWriter,
    row: { id: string; ownerId: string; sandboxId: string; directory: string; description?: string; ttlSeconds: number },
  ): Promise<Backup> {
    const { size, sha256 } = await writer.close();
    await fs.rename(writer.file, this.fileOf(row.id));
    const now = new Date();
    const record: BackupTable = {
      id: row.id,
      owner_id: row.ownerId,
      sandbox_id: row.sandboxId,
      directory: row.directory,
      description: row.description ?? null,
      size,
      sha256,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + row.ttlSeconds * 1000).toISOString(),
    };
    try {
      await this.db.insertInto('backups').values(record).execute();
    } catch (err) {
      await fs.rm(this.fileOf(row.id), { force: true });
      throw err;
    }
    return toBackup(record);
  }

  /** The sandbox's unexpired backups, newest first. */
  async listForSandbox(ownerId: string, sandboxId: string, page: { limit: number; offset: number }): Promise<{ backups: Backup[]; total: number }> {
    const base = this.db
      .selectFrom('backups')
      .where('owner_id', '=', ownerId)
      .where('sandbox_id', '=', sandboxId)
      .where('expires_at', '>', nowIso());
    const [rows, count] = await Promise.all([
      base.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit).offset(page.offset).execute(),
      base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { backups: rows.map(toBackup), total: toCount(count.n) };
  }

  /** The owner's unexpired backup with this id, if its file is still there. */
  async find(ownerId: string, id: string): Promise<Backup | undefined> {
    const row = await this.db
      .selectFrom('backups')
      .selectAll()
      .where('id', '=', id)
      .where('owner_id', '=', ownerId)
      .where('expires_at', '>', nowIso())
      .executeTakeFirst();
    if (!row) return undefined;
    const present = await fs.stat(this.fileOf(row.id)).then(() => true, () => false);
    return present ? toBackup(row) : undefined;
  }

  async sweep(now = new Date()): Promise<number> {
    const expired = await this.db.selectFrom('backups').select('id').where('expires_at', '<=', now.toISOString()).execute();
    for (const { id } of expired) {
      await this.db.deleteFrom('backups').where('id', '=', id).execute();
      await fs.rm(this.fileOf(id), { force: true });
    }
    return expired.length;
  }
}

function toBackup(row: BackupTable): Backup {
  return {
    id: row.id,
    ownerId: row.owner_id,
    sandboxId: row.sandbox_id,
    directory: row.directory,
    description: row.description,
    size: Number(row.size),
    sha256: row.sha256,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}
