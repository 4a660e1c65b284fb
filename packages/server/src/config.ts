/**
 * Server configuration: explicit options first, then environment variables, then defaults.
 * Every knob the server reads lives here so the README table and the code cannot drift.
 */
import os from 'node:os';
import path from 'node:path';
import type { Provider } from '@pocketenv/runtime';
import { parseDuration } from './durations';
import { resolvePreviewConfig, type PreviewConfig } from './ports/preview-config';
import { resolveIsolationConfig, type IsolationConfig } from './sandboxes/isolation';

export { parseDuration } from './durations';

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
  /** How previews are addressed and how long the proxy waits for apps (POCKETENV_PREVIEW_*). */
  preview: PreviewConfig;
  /** Isolation levels allowed and the default (POCKETENV_ISOLATION_ALLOWED / _DEFAULT). */
  isolation: IsolationConfig;
  /** POCKETENV_GVISOR_PLATFORM for the default local provider (auto, ptrace, kvm, systrap). */
  gvisorPlatform: string;
}

export const DEFAULT_PORT = 8789;
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
    preview: resolvePreviewConfig(env),
    isolation: resolveIsolationConfig(env),
    gvisorPlatform: env.POCKETENV_GVISOR_PLATFORM || 'auto',
  };
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`POCKETENV_PORT must be an integer between 0 and 65535, got ${JSON.stringify(value)}`);
  }
  return port;
}
