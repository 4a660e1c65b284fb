/**
 * Warm pool settings, from the environment:
 *   POCKETENV_POOL_SIZE   prepared sandboxes kept per base when there is no demand (default 2; 0 under vitest; 0 disables)
 *   POCKETENV_POOL_MAX    how far the pool grows per base under bursts of creates (default 24, never below the size)
 *   POCKETENV_POOL_BASES  comma-separated bases to keep warm (default "debian")
 */
import os from 'node:os';

export interface PoolConfig {
  /** Sandboxes kept ready per base with no demand. */
  size: number;
  /** Upper bound per base while creates drain it (adaptive size), already bounded by memory. */
  max: number;
  bases: string[];
}

/**
 * What one idle pooled sandbox is budgeted at when bounding the pool by memory. Measured idle
 * cost is ~2.4 MiB; the budget leaves room for what a sandbox touches in its first moments.
 */
export const POOLED_SANDBOX_BUDGET_MIB = 16;
/** Share of the host's free memory (at start) the grown pool may take. */
const POOL_MEMORY_SHARE = 0.05;

export function poolConfigFromEnv(env: NodeJS.ProcessEnv = process.env, freeMemBytes = os.freemem()): PoolConfig {
  const size = poolInteger(env, 'POCKETENV_POOL_SIZE', env.VITEST ? 0 : 2);
  const wantedMax = Math.max(size, poolInteger(env, 'POCKETENV_POOL_MAX', 24));
  const byMemory = Math.floor((freeMemBytes / 2 ** 20) * POOL_MEMORY_SHARE / POOLED_SANDBOX_BUDGET_MIB);
  const bases = (env.POCKETENV_POOL_BASES || 'debian').split(',').map((b) => b.trim()).filter(Boolean);
  // The configured size is always honoured; only the growth above it is bounded by memory.
  return { size, max: Math.max(size, Math.min(wantedMax, byMemory)), bases };
}

function poolInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 500) throw new Error(`${name} must be an integer between 0 and 500, got ${JSON.stringify(raw)}`);
  return n;
}
