/**
 * Server configuration: explicit options first, then environment variables, then defaults.
 * Every knob the server reads lives here so the README table and the code cannot drift.
 */
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_BASES, type Provider } from '@pocketenv/runtime';

export interface ServerOptions {
  /** Where the database, keys, token.json and provider state live. Default $POCKETENV_DATA_DIR or ~/.pocketenv. */
  dataDir?: string;
  /** Default $POCKETENV_PORT or 8789; 0 picks a free port. */
  port?: number;
  /** Default $POCKETENV_HOST or 127.0.0.1. */
  host?: string;
  /** Postgres connection string; default $DATABASE_URL. When unset, SQLite in the data directory. */
  databaseUrl?: string;
  /** Default: one LocalProvider with its state in <dataDir>/runtime/local. */
  providers?: Provider[];
  /** A keepAlive:false sandbox with no activity for this long is stopped. Default $POCKETENV_IDLE_TIMEOUT or 15 min; 0 disables. */
  idleTimeoutMs?: number;
  /** JSON-lines logs on stderr. Default on, except under vitest; $POCKETENV_LOG=1/0 forces it. */
  log?: boolean;
  /** What to build in the background once listening (bases, `code-server`). Default $POCKETENV_PREBUILD; see {@link resolvePrebuild}. */
  prebuild?: string[];
  /** How long createSandbox waits for a base still being built. Default $POCKETENV_BASE_WAIT or 5 min. */
  baseWaitMs?: number;
}

export interface ServerConfig {
  dataDir: string;
  port: number;
  host: string;
  databaseUrl?: string;
  idleTimeoutMs: number;
  /** How often the idle reaper looks for idle sandboxes. */
  reapIntervalMs: number;
  /** Stop every running sandbox when the server shuts down (default: keep them running). */
  stopOnExit: boolean;
  log: boolean;
  /** Largest accepted JSON request body, in bytes. */
  jsonLimitBytes: number;
  /** Host part of local actors' did:web identifiers. */
  didHost: string;
  /** Built in the background after the server starts listening, in this order (bases, `code-server`). */
  prebuild: string[];
  /** How long createSandbox waits for its base to be built before answering 503 NotReady. */
  baseWaitMs: number;
}

export const DEFAULT_PORT = 8789;
/** The name POCKETENV_PREBUILD uses for the shared VS Code build (not a base). */
export const CODE_SERVER_BUILD = 'code-server';
export const DEFAULT_BASE_WAIT_MS = 5 * 60_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 15 * 60_000;
/** Room for the largest sealed file the lexicon allows (1.4M base64url characters) plus JSON framing. */
export const JSON_LIMIT_BYTES = 2 * 1024 * 1024;

export function defaultDataDir(): string {
  return process.env.POCKETENV_DATA_DIR || path.join(os.homedir(), '.pocketenv');
}

export function resolveConfig(opts: ServerOptions = {}): ServerConfig {
  const env = process.env;
  const idleTimeoutMs =
    opts.idleTimeoutMs ?? (env.POCKETENV_IDLE_TIMEOUT ? parseDuration(env.POCKETENV_IDLE_TIMEOUT, 'POCKETENV_IDLE_TIMEOUT') : DEFAULT_IDLE_TIMEOUT_MS);
  return {
    dataDir: path.resolve(opts.dataDir ?? defaultDataDir()),
    port: opts.port ?? (env.POCKETENV_PORT !== undefined && env.POCKETENV_PORT !== '' ? parsePort(env.POCKETENV_PORT) : DEFAULT_PORT),
    host: opts.host ?? (env.POCKETENV_HOST || '127.0.0.1'),
    databaseUrl: opts.databaseUrl ?? (env.DATABASE_URL || undefined),
    idleTimeoutMs,
    // Check often enough that a sandbox overstays its idle time by at most ~25 %, but not
    // more than once a second in tests nor less than once a minute in production.
    reapIntervalMs: Math.min(60_000, Math.max(250, Math.floor(idleTimeoutMs / 4))),
    stopOnExit: env.POCKETENV_STOP_ON_EXIT === '1' || env.POCKETENV_STOP_ON_EXIT === 'true',
    log: opts.log ?? (env.POCKETENV_LOG !== undefined ? env.POCKETENV_LOG !== '0' && env.POCKETENV_LOG !== 'false' : !env.VITEST),
    jsonLimitBytes: JSON_LIMIT_BYTES,
    didHost: env.POCKETENV_DID_HOST || 'localhost',
    prebuild: opts.prebuild ?? resolvePrebuild(env),
    baseWaitMs: opts.baseWaitMs ?? (env.POCKETENV_BASE_WAIT ? parseDuration(env.POCKETENV_BASE_WAIT, 'POCKETENV_BASE_WAIT') : DEFAULT_BASE_WAIT_MS),
  };
}

/**
 * POCKETENV_PREBUILD: comma-separated bases (and `code-server`) to build in the background,
 * `none` for nothing. Default: what `pocketenv setup` builds (DEFAULT_BASES, then code-server),
 * except under vitest, where test servers share the machine's cache and must not start builds.
 */
export function resolvePrebuild(env: NodeJS.ProcessEnv): string[] {
  const raw = env.POCKETENV_PREBUILD?.trim();
  if (raw === undefined || raw === '') return env.VITEST ? [] : [...DEFAULT_BASES, CODE_SERVER_BUILD];
  if (raw === 'none') return [];
  return raw.split(',').map((name) => name.trim()).filter(Boolean);
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`POCKETENV_PORT must be an integer between 0 and 65535, got ${JSON.stringify(value)}`);
  }
  return port;
}

/** Parses `500ms`, `30s`, `15m`, `1h`; a bare number means seconds. */
export function parseDuration(value: string, name: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value);
  if (!match) throw new Error(`${name} must be a duration such as 900, 30s, 15m or 1h; got ${JSON.stringify(value)}`);
  const amount = Number(match[1]);
  const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(amount * unitMs);
}
