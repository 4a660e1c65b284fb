/**
 * The provider instance's identity: a random id kept in its state dir, written once. It labels
 * every container the instance makes (LABEL_OWNER), so servers sharing one engine never list,
 * adopt or delete each other's sandboxes, and a restarted server finds its own again.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function instanceId(stateDir: string): Promise<string> {
  const file = join(stateDir, 'instance-id');
  const existing = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (existing) return existing;
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const id = randomBytes(12).toString('hex');
  // `wx`: two first uses racing both read back the one that won.
  await writeFile(file, id + '\n', { mode: 0o600, flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  return (await readFile(file, 'utf8')).trim();
}
