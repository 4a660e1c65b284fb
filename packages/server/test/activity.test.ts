/**
 * Activity is held in memory and written in batches (src/sandboxes/activity.ts). A graceful
 * shutdown must still write it: the restarted server's idle reaper decides on it. The server
 * runs as a child process so SIGTERM is the real shutdown path.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { Api, ServerProcess, readOwnerToken } from './helpers';

let dataDir: string | undefined;
let proc: ServerProcess | undefined;

afterAll(async () => {
  await proc?.kill('SIGTERM');
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

describe('sandbox activity', () => {
  it('is written to the database by a graceful shutdown, not lost with the batch', async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-activity-'));
    proc = await ServerProcess.start(dataDir, { POCKETENV_POOL_SIZE: '0' });
    let api = new Api(proc.url, await readOwnerToken(dataDir));
    const sb = await api.create({ name: 'activity-kept' });
    await new Promise((r) => setTimeout(r, 1100)); // the create's own write is now older than the exec below
    const before = new Date().toISOString();
    expect((await api.exec(sb.id, 'true')).exitCode).toBe(0);
    // Right after the exec: its activity is only in memory unless the shutdown writes it.
    expect((await proc.kill('SIGTERM')).code).toBe(0);

    const db = new Database(path.join(dataDir, 'pocketenv.db'), { readonly: true });
    const row = db.prepare('SELECT last_active_at FROM sandboxes WHERE id = ?').get(sb.id) as { last_active_at: string };
    db.close();
    expect(row.last_active_at >= before).toBe(true);

    // Clean up through a server on the same data dir.
    proc = await ServerProcess.start(dataDir, { POCKETENV_POOL_SIZE: '0' });
    api = new Api(proc.url, await readOwnerToken(dataDir));
    await api.delete(sb.id);
  });
});
