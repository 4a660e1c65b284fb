/**
 * Backups of a sandbox directory (as the seed SDK's `pocketenv/backup`): the server archives
 * the directory (tar+gzip with a checksum) and keeps it until it expires (default 3 days);
 * restoring makes the directory exactly what it was, in the same sandbox or another one of
 * the caller's.
 *
 * @example
 * import { backup } from '@pocketenv/sdk';
 * const { id } = await backup.create(sb, '/workspace', { description: 'before upgrade', ttl: 3600 });
 * console.log(await backup.list(sb));
 * await backup.restore(sb, id);
 * @module
 */
import type { SandboxDefs } from '@pocketenv/lexicons';
import type { Client } from './client';
import type { ConnectedSandbox } from './connected';
import { DecodeError } from './errors';
import { type CallOptions, procedure, query } from './http';

/** A backup as getBackups lists it; `sizeBytes` (compressed) comes from servers that report it. */
export type Backup = SandboxDefs.BackupView & { sizeBytes?: number };

export interface CreateBackupOptions extends CallOptions {
  description?: string;
  /** Seconds until the backup expires. @default the server's (3 days) */
  ttl?: number;
}

/**
 * Archives `directory` (absolute, in the running sandbox). Resolves with the backup's id and
 * when it expires.
 * @example
 * const { id, expiresAt } = await backup.create(sb, '/workspace', { ttl: 24 * 3600 });
 */
export async function create(sb: ConnectedSandbox, directory: string, opts: CreateBackupOptions = {}): Promise<{ id: string; expiresAt?: string }> {
  const { description, ttl, ...call } = opts;
  const body = await procedure(
    sb.client,
    'io.pocketenv.sandbox.createBackup',
    { id: sb.id },
    { directory, ...(description !== undefined ? { description } : {}), ...(ttl !== undefined ? { ttl } : {}) },
    call,
  );
  const { id, expiresAt } = body as { id?: unknown; expiresAt?: unknown };
  if (typeof id !== 'string') throw new DecodeError('createBackup: field "id" should be a string');
  return typeof expiresAt === 'string' ? { id, expiresAt } : { id };
}

/**
 * The sandbox's unexpired backups, newest first.
 * @example
 * for (const b of await backup.list(sb)) console.log(b.id, b.directory, b.expiresAt);
 */
export async function list(sb: ConnectedSandbox, opts: CallOptions & { limit?: number; offset?: number } = {}): Promise<Backup[]> {
  return (await listPage(sb, opts)).backups;
}

/** {@link list} with the total, for paging. */
export async function listPage(sb: ConnectedSandbox, opts: CallOptions & { limit?: number; offset?: number } = {}): Promise<{ backups: Backup[]; total: number }> {
  const { limit, offset, ...call } = opts;
  const body = (await query(sb.client, 'io.pocketenv.sandbox.getBackups', { id: sb.id, limit, offset }, call)) as { backups?: unknown; total?: unknown };
  if (!Array.isArray(body.backups)) throw new DecodeError('getBackups: field "backups" should be an array');
  const backups = body.backups.map((item, i) => {
    const b = item as Partial<Backup>;
    if (typeof b?.id !== 'string' || typeof b.directory !== 'string' || typeof b.createdAt !== 'string') {
      throw new DecodeError(`getBackups: backups[${i}] should have string fields id, directory and createdAt`);
    }
    return b as Backup;
  });
  return { backups, total: typeof body.total === 'number' ? body.total : backups.length };
}

/**
 * Restores a backup into `sb` (its directory becomes exactly the backup's contents). `sb` may
 * be the sandbox the backup was taken from or any other running sandbox of the caller's.
 * @example
 * await backup.restore(otherSb, id);
 */
export async function restore(sb: ConnectedSandbox, backupId: string, opts?: CallOptions): Promise<void> {
  await restoreBackup(sb.client, backupId, { ...opts, into: sb.id });
}

/**
 * Restores a backup by id alone: into the sandbox it was taken from, or into `into` (an id or name).
 * @example
 * await backup.restoreBackup(client, 'bkp_…', { into: 'other-box' });
 */
export async function restoreBackup(client: Client, backupId: string, opts: CallOptions & { into?: string } = {}): Promise<void> {
  const { into, ...call } = opts;
  await procedure(client, 'io.pocketenv.sandbox.restoreBackup', {}, { backupId, ...(into !== undefined ? { id: into } : {}) }, call);
}
