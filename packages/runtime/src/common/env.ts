/** Checks on environment variables a caller hands a provider (the same rules for every provider). */
import { ProviderError } from '../provider/errors';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The sandbox's own environment (StartSpec.env): portable names only. */
export function assertEnvNames(env: Record<string, string>): void {
  for (const key of Object.keys(env)) {
    if (!ENV_NAME.test(key)) throw new ProviderError(`invalid environment variable name ${JSON.stringify(key)}`);
  }
}

/** Extra environment of one command (ExecOptions.env): anything execve(2) can carry. */
export function assertExecEnv(env: Record<string, string> | undefined): void {
  for (const [key, value] of Object.entries(env ?? {})) {
    if (!key || key.includes('=') || key.includes('\0') || String(value).includes('\0')) {
      throw new ProviderError(`invalid environment variable ${JSON.stringify(key)}`);
    }
  }
}
