/** io.pocketenv.sandbox.createBackup, getBackups, restoreBackup. */
import type { Server } from '@atproto/xrpc-server';
import type { SandboxDefs } from '@pocketenv/lexicons';
import { inspectArchiveFile } from '@pocketenv/sdk/archive';
import type { AppContext } from '../context';
import { archiveProblem, vanished } from '../copy/errors';
import { packFromSandbox, requireRunning, sandboxPath, unpackIntoSandbox } from '../copy/sandbox-tar';
import { InvalidInputError, InvalidStateError, NotFoundError } from '../errors';
import { ownedSandbox } from '../xrpc/lookup';
import { authedMethod } from '../xrpc/method';
import { page } from '../xrpc/pagination';
import type { Backup, BackupStore } from './store';

/** getBackups returns every backup by default, as the hosted service did. */
const DEFAULT_BACKUP_PAGE = 100;

export function registerBackupMethods(server: Server, ctx: AppContext, store: BackupStore): void {
  const config = ctx.config.transfer;

  authedMethod(server, ctx, 'io.pocketenv.sandbox.createBackup', async ({ actor, params, input }) => {
    const record = await ownedSandbox(ctx, actor, params.id);
    const directory = sandboxPath('directory', input.directory);
    if (directory === '/') throw new InvalidInputError('directory', 'back up a directory below /, not / itself');
    const ttlSeconds = input.ttl ?? config.backupDefaultTtlSeconds;
    if (ttlSeconds > config.backupMaxTtlSeconds) {
      throw new InvalidInputError('ttl', `must be at most ${config.backupMaxTtlSeconds} seconds on this server (POCKETENV_BACKUP_MAX_TTL)`);
    }
    requireRunning(record);

    const { id, writer } = store.startWrite(config.limits.maxArchiveBytes);
    try {
      await packFromSandbox(ctx, record, directory, writer, { field: 'directory', timeoutMs: config.execTimeoutMs, directoryOnly: true });
      await writer.close();
      // Links may point anywhere in a backup (it is only ever unpacked inside a sandbox), but
      // nothing may escape the directory, and bombs are refused now rather than at restore.
      await inspectArchiveFile(writer.file, { ...config.limits, symlinks: 'any-target' }).catch((err: unknown) => {
        throw archiveProblem(err, 'directory');
      });
      const backup = await store.commit(writer, { id, ownerId: actor.id, sandboxId: record.id, directory, description: input.description, ttlSeconds });
      ctx.log.info('backup.create', { sandbox: record.id, backup: id, size: backup.size });
      return { id: backup.id, expiresAt: backup.expiresAt };
    } catch (err) {
      await writer.discard();
      throw err;
    }
  });

  authedMethod(server, ctx, 'io.pocketenv.sandbox.getBackups', async ({ actor, params }) => {
    const record = await ownedSandbox(ctx, actor, params.id);
    const { backups, total } = await store.listForSandbox(actor.id, record.id, page(params, DEFAULT_BACKUP_PAGE));
    return { backups: backups.map(toView), total };
  });

  authedMethod(server, ctx, 'io.pocketenv.sandbox.restoreBackup', async ({ actor, input }) => {
    const backup = await store.find(actor.id, input.backupId);
    if (!backup) throw new NotFoundError(`backupId: no backup ${JSON.stringify(input.backupId)} (it may have expired)`);
    const targetId = input.id ?? backup.sandboxId;
    if (targetId === null) {
      throw new InvalidInputError('id', 'the sandbox this backup was taken from has been deleted; give id to restore it into another sandbox');
    }
    const target = await ownedSandbox(ctx, actor, targetId);
    requireRunning(target);

    const file = store.fileOf(backup.id);
    const summary = await inspectArchiveFile(file, { ...config.limits, symlinks: 'any-target' }).catch((err: unknown) => {
      throw vanished(archiveProblem(err, 'backupId'), `backupId: backup ${backup.id}`);
    });
    if (summary.sha256 !== backup.sha256) {
      ctx.log.error('backup.restore: checksum mismatch', { backup: backup.id, expected: backup.sha256, actual: summary.sha256 });
      throw new InvalidStateError(`backup ${backup.id} is damaged (its checksum does not match) and cannot be restored`);
    }
    await unpackIntoSandbox(ctx, target, file, backup.directory, { field: 'backupId', mode: 'replace', timeoutMs: config.execTimeoutMs }).catch((err: unknown) => {
      throw vanished(err, `backupId: backup ${backup.id}`);
    });
    ctx.log.info('backup.restore', { sandbox: target.id, backup: backup.id });
    return {};
  });
}

function toView(b: Backup): SandboxDefs.BackupView & { sizeBytes: number } {
  return {
    id: b.id,
    ...(b.sandboxId ? { sandboxId: b.sandboxId } : {}),
    directory: b.directory,
    ...(b.description !== null ? { description: b.description } : {}),
    expiresAt: b.expiresAt,
    createdAt: b.createdAt,
    // Our addition (lexicon objects are open): the compressed size, for `pocketenv backup ls`.
    sizeBytes: b.size,
  };
}
