/**
 * Warm pool settings, from the environment:
 *   POCKETENV_POOL_SIZE   prepared sandboxes kept per base (default 2; 0 under vitest; 0 disables)
 *   POCKETENV_POOL_BASES  comma-separated bases to keep warm (default "debian")
 */
export interface PoolConfig {
  size: number;
  bases: string[];
}

export function poolConfigFromEnv(env: NodeJS.ProcessEnv = process.env): PoolConfig {
  const raw = env.POCKETENV_POOL_SIZE;
  let size = env.VITEST ? 0 : 2;
  if (raw !== undefined && raw !== '') {
    size = Number(raw);
    if (!Number.isInteger(size) || size < 0 || size > 500) {
      throw new Error(`POCKETENV_POOL_SIZE must be an integer between 0 and 500, got ${JSON.stringify(raw)}`);
    }
  }
  const bases = (env.POCKETENV_POOL_BASES || 'debian').split(',').map((b) => b.trim()).filter(Boolean);
  return { size, bases };
}
