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
export interface LimitsConfig {
  maxSandboxes: number;
  maxRunning: number;
  execRatePerSecond: number;
  execBurst: number;
  maxConcurrentExec: number;
}

export const DEFAULT_LIMITS: LimitsConfig = { maxSandboxes: 256, maxRunning: 64, execRatePerSecond: 100, execBurst: 1000, maxConcurrentExec: 128 };

export function resolveLimits(env: NodeJS.ProcessEnv = process.env): LimitsConfig {
  const rate = readNumber(env, 'POCKETENV_EXEC_RATE', DEFAULT_LIMITS.execRatePerSecond);
  return {
    maxSandboxes: readNumber(env, 'POCKETENV_MAX_SANDBOXES', DEFAULT_LIMITS.maxSandboxes, true),
    maxRunning: readNumber(env, 'POCKETENV_MAX_RUNNING', DEFAULT_LIMITS.maxRunning, true),
    execRatePerSecond: rate,
    // A burst smaller than one request would refuse everything.
    execBurst: Math.max(1, readNumber(env, 'POCKETENV_EXEC_BURST', env.POCKETENV_EXEC_RATE ? Math.max(1, Math.ceil(rate)) : DEFAULT_LIMITS.execBurst)),
    maxConcurrentExec: readNumber(env, 'POCKETENV_MAX_CONCURRENT_EXEC', DEFAULT_LIMITS.maxConcurrentExec, true),
  };
}

function readNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, integer = false): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    throw new Error(`${name} must be a ${integer ? 'whole ' : ''}number ≥ 0 (0 disables the limit), got ${JSON.stringify(raw)}`);
  }
  return n;
}
