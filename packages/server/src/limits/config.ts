/**
 * Per-actor limits, from the environment (0 disables a limit). The defaults are generous:
 * they stop a runaway script or a hostile account, not normal use or the test suites.
 *
 * | variable | default | what |
 * |---|---|---|
 * | POCKETENV_MAX_SANDBOXES | 256 | sandboxes one actor may have (any status) |
 * | POCKETENV_MAX_RUNNING | 64 | sandboxes one actor may have running or starting |
 * | POCKETENV_EXEC_RATE | 100 | exec requests per second per actor (token bucket refill) |
 * | POCKETENV_EXEC_BURST | 1000 | exec requests one actor may send at once (bucket size) |
 * | POCKETENV_MAX_CONCURRENT_EXEC | 128 | commands (exec and streaming exec) one actor may have running at once |
 */
import type { Settings } from '@pocketenv/config';

export interface LimitsConfig {
  maxSandboxes: number;
  maxRunning: number;
  execRatePerSecond: number;
  execBurst: number;
  maxConcurrentExec: number;
}

export const DEFAULT_LIMITS: LimitsConfig = { maxSandboxes: 256, maxRunning: 64, execRatePerSecond: 100, execBurst: 1000, maxConcurrentExec: 128 };

/** Read once at start by resolveConfig (config.ts); 0 disables a limit. */
export function resolveLimits(settings: Settings): LimitsConfig {
  const rate = settings.number('POCKETENV_EXEC_RATE', DEFAULT_LIMITS.execRatePerSecond, { min: 0 });
  const count = (name: string, fallback: number) => settings.integer(name, fallback, { min: 0 });
  return {
    maxSandboxes: count('POCKETENV_MAX_SANDBOXES', DEFAULT_LIMITS.maxSandboxes),
    maxRunning: count('POCKETENV_MAX_RUNNING', DEFAULT_LIMITS.maxRunning),
    execRatePerSecond: rate,
    // A burst smaller than one request would refuse everything.
    execBurst: Math.max(
      1,
      settings.number('POCKETENV_EXEC_BURST', settings.has('POCKETENV_EXEC_RATE') ? Math.max(1, Math.ceil(rate)) : DEFAULT_LIMITS.execBurst, { min: 0 }),
    ),
    maxConcurrentExec: count('POCKETENV_MAX_CONCURRENT_EXEC', DEFAULT_LIMITS.maxConcurrentExec),
  };
}
