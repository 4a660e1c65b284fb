/**
 * The copy store: archives in <dataDir>/copy/<uuid>.tar.gz with a row each (owner, size,
 * sha256, expiry). An archive is written as `<uuid>.part` and renamed once complete, so a
 * crash leaves at most a `.part` file, which the next start removes. Reads only ever see
 * the caller's own, unexpired archives; the sweeper deletes expired ones.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Db } from '../db/index';
import { nowIso } from '../ids';
import { ArchiveFileWriter } from './archive-file';

export interface CopyObject {
  uuid: string;
  ownerId: string;
  size: number;
  sha256: string;
  createdAt: string;
  expiresAt: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class CopyStore {
  /** Files older than this were left by an earlier run; newer ones may be uploads in progress. */
  private readonly startedAt = Date.now();

  constructor(
    private readonly db: Db,
    readonly dir: string,
    private readonly ttlMs: number,
  ) {
    // Synchronously, so the first request never finds the directory missing.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  fileOf(uuid: string): string {
    return path.join(this.dir, `${uuid}.tar.gz`);
  }

  /** Creates the directory and removes what an earlier run left behind (partial files, files without rows). */
  async prepare(): Promise<void> {
    await removeLeftovers(this.dir, this.startedAt, async () => new Set((await this.db.selectFrom('copy_objects').select('uuid').execute()).map((r) => r.uuid)));
  }

  /** A writer for a new archive; hand it to {@link commit} once it is complete and checked. */
  startWrite(maxBytes: number): { uuid: string; writer: ArchiveFileWriter } {
    const uuid = randomUUID();
    return { uuid, writer: new ArchiveFileWriter(path.join(this.dir, `${uuid}.part`), maxBytes) };
  }

  /** Makes a written archive visible to its owner until it expires. */
  async commit(ownerId: string, uuid: string, writer: ArchiveFileWriter): Promise<CopyObject> {
    const { size, sha256 } = await writer.close();
    await fs.rename(writer.file, this.fileOf(uuid));
    const now = new Date();
    const row = { uuid, owner_id: ownerId, size, sha256, created_at: now.toISOString(), expires_at: new Date(now.getTime() + this.ttlMs).toISOString() };
    try {
      await this.db.insertInto('copy_objects').values(row).execute();
    } catch (err) {
      await fs.rm(this.fileOf(uuid), { force: true });
      throw err;
    }
    return toCopyObject(row);
  }

  /** The owner's unexpired archive with this uuid, if its file is still there. */
  async find(ownerId: string, uuid: string): Promise<CopyObject | undefined> {
    if (!UUID.test(uuid)) return undefined;
    const row = await this.db
      .selectFrom('copy_objects')
      .selectAll()
      .where('uuid', '=', uuid)
      .where('owner_id', '=', ownerId)
      .where('expires_at', '>', nowIso())
      .executeTakeFirst();
    if (!row) return undefined;
    const present = await fs.stat(this.fileOf(uuid)).then(() => true, () => false);
    return present ? toCopyObject(row) : undefined;
  }

  /** Deletes expired archives (row first: a reader then finds nothing, never a half-deleted archive). */
  async sweep(now = new Date()): Promise<number> {
    const expired = await this.db.selectFrom('copy_objects').select('uuid').where('expires_at', '<=', now.toISOString()).execute();
    for (const { uuid } of expired) {
      await this.db.deleteFrom('copy_objects').where('uuid', '=', uuid).execute();
      await fs.rm(this.fileOf(uuid), { force: true });
    }
    return expired.length;
  }
}

/**
 * Shared with the backup store: in `dir`, deletes `<id>.part` files and `<id>.tar.gz` files
 * without a row, but only those older than `startedAt` (newer ones belong to this run).
 */
export async function removeLeftovers(dir: string, startedAt: number, knownIds: () => Promise<Set<string>>): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const known = await knownIds();
  for (const name of await fs.readdir(dir)) {
    const id = name.replace(/\.(tar\.gz|part)$/, '');
    if (name.endsWith('.tar.gz') && known.has(id)) continue;
    const file = path.join(dir, name);
    const info = await fs.lstat(file).catch(() => undefined);
    if (info && info.mtimeMs < startedAt) await fs.rm(file, { force: true, recursive: true });
  }
}

function toCopyObject(row: { uuid: string; owner_id: string; size: number | string; sha256: string; created_at: string; expires_at: string }): CopyObject {
  return { uuid: row.uuid, ownerId: row.owner_id, size: Number(row.size), sha256: row.sha256, createdAt: row.created_at, expiresAt: row.expires_at };
}
