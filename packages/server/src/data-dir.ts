/** The data directory holds the database, keys and tokens: owner-only (0700). */
import fs from 'node:fs/promises';

export async function ensureDataDir(dataDir: string): Promise<void> {
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  await fs.chmod(dataDir, 0o700);
}
