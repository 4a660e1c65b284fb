/**
 * Warm pool settings (read once at start by resolveConfig):
 *   POCKETENV_POOL_SIZE   prepared sandboxes kept per base when there is no demand (default 2; 0 disables)
 *   POCKETENV_POOL_MAX    how far the pool grows per base under bursts of creates (default 24, never below the size)
 *   POCKETENV_POOL_BASES  comma-separated bases to keep warm (default "debian")
 */
import os from 'node:os';
import type { Settings } from '@pocketenv/config';

export interface PoolConfig {
  /** Sandboxes kept ready per base with no demand. */
  size: number;
  /** Upper bound per base while creates drain it (adaptive size), already bounded by memory. */
  max: number;
  bases: string[];
}

export const DEFAULT_POOL_SIZE = 2;
/**
 * What one idle pooled sandbox is budgeted at when bounding the pool by memory. Measured idle
 * cost is ~2.4 MiB; the budget leaves room for what a sandbox touches in its first moments.
 */
export const POOLED_SANDBOX_BUDGET_MIB = 16;
/** Share of the host's free memory (at start) the grown pool may take. */
const POOL_MEMORY_SHARE = 0.05;

export function resolvePoolConfig(settings: Settings, freeMemBytes = os.freemem()): PoolConfig {
  const size = settings.integer('POCKETENV_POOL_SIZE', DEFAULT_POOL_SIZE, { min: 0, max: 500 });
  const wantedMax = Math.max(size, settings.integer('POCKETENV_POOL_MAX', 24, { min: 0, max: 500 }));
  const byMemory = Math.floor(((freeMemBytes / 2 ** 20) * POOL_MEMORY_SHARE) / POOLED_SANDBOX_BUDGET_MIB);
  // The configured size is always honoured; only the growth above it is bounded by memory.
  return { size, max: Math.max(size, Math.min(wantedMax, byMemory)), bases: settings.list('POCKETENV_POOL_BASES', ['debian']) };
}
