/**
 * Warm pool settings (read once at start by resolveConfig):
 *   POCKETENV_POOL_SIZE   prepared sandboxes kept per base (default 2; 0 disables)
 *   POCKETENV_POOL_BASES  comma-separated bases to keep warm (default "debian")
 */
import type { Settings } from '@pocketenv/config';

export interface PoolConfig {
  size: number;
  bases: string[];
}

export const DEFAULT_POOL_SIZE = 2;

export function resolvePoolConfig(settings: Settings): PoolConfig {
  return {
    size: settings.integer('POCKETENV_POOL_SIZE', DEFAULT_POOL_SIZE, { min: 0, max: 500 }),
    bases: settings.list('POCKETENV_POOL_BASES', ['debian']),
  };
}
