import * as backup from '../backup';
import type { ConnectedSandbox } from '../connected';
import type { RequestOptions } from '../http';
import { type KeyedPage, type ListOptions, keyedPage } from '../page';
import type { BackupView } from './views';

/**
 * `sb.backup`: archives of a sandbox directory, kept until they expire (3 days by default), and
 * restored to exactly what they held.
 * @example
 * const { id } = await sb.backup.create('/workspace', 'before upgrade');
 * await sb.backup.restore(id);
 */
export class Backups {
  readonly #sb: ConnectedSandbox;

  /** @internal use `sb.backup` */
  constructor(sb: ConnectedSandbox) {
    this.#sb = sb;
  }

  /** Archives `directory` (absolute) of the running sandbox. @param ttl seconds until it expires */
  create(directory: string, description?: string, ttl?: number, opts: RequestOptions = {}): Promise<{ id: string; expiresAt?: string }> {
    return backup.create(this.#sb, directory, { ...opts, description, ttl });
  }

  /** One page of the unexpired backups, newest first (also under `backups`). */
  list(opts: ListOptions & RequestOptions = {}): Promise<KeyedPage<BackupView, 'backups'>> {
    return keyedPage('backups', opts, (limit, offset, o) => backup.listPage(this.#sb, { ...o, limit, offset }));
  }

  /** Restores a backup (of this sandbox or another of the caller's) into this sandbox. */
  restore(backupId: string, opts?: RequestOptions): Promise<void> {
    return backup.restore(this.#sb, backupId, opts);
  }
}
