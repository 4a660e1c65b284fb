/**
 * Backups: createBackup snapshots a directory of a running sandbox into <dataDir>/backups
 * (tar+gzip, sha256 recorded), getBackups lists a sandbox's unexpired backups, restoreBackup
 * makes the directory the backup again (in the original sandbox, or any other of the
 * caller's). Works with every provider that can exec. Expired backups are swept.
 */
import path from 'node:path';
import type { AppContext } from '../context';
import { startSweeper } from '../copy/sweeper';
import type { Feature } from '../features';
import { BackupStore } from './store';
import { registerBackupMethods } from './xrpc';

const stores = new WeakMap<AppContext, BackupStore>();

function backupStoreOf(ctx: AppContext): BackupStore {
  let store = stores.get(ctx);
  if (!store) {
    store = new BackupStore(ctx.db, path.join(ctx.config.dataDir, 'backups'));
    stores.set(ctx, store);
  }
  return store;
}

export const backupsFeature: Feature = {
  name: 'backups',
  registerXrpc: (server, ctx) => registerBackupMethods(server, ctx, backupStoreOf(ctx)),
  start: (ctx) => startSweeper(ctx, 'backups', backupStoreOf(ctx)),
};
