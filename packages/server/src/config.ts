/**
 * Server configuration: explicit options first, then environment variables, then defaults.
 * Every setting the server (and the local provider it runs) reads is resolved here, once, at
 * start, from one snapshot of the environment, and injected from there (AppContext.config,
 * the provider's options). A bad value throws a ConfigError naming the variable before
 * anything is written. Nothing else in the server reads `process.env`.
 *
 * A new setting: one field below, one line in resolveConfig using a `settings.<kind>(NAME,
 * default)` parser from @pocketenv/config, and a row in the README's Configuration table.
 */
import os from 'node:os';
import path from 'node:path';
import { type Env, type Settings, settingsFrom } from '@pocketenv/config';
import { DEFAULT_BASES, DEFAULT_IMAGE_DIR, DEFAULT_TOOLS_DIR, type Provider } from '@pocketenv/runtime';
import { resolveTransferConfig, type TransferConfig } from './copy/config';
import { resolveLimits, type LimitsConfig } from './limits/config';
import { resolvePoolConfig, type PoolConfig } from './pool/config';
import { resolvePreviewConfig, type PreviewConfig } from './ports/preview-config';
import { parseProviderAliases, type ProviderAliasSetting } from './sandboxes/provider-aliases';

export interface ServerOptions {
  /** Where the database, keys, token.json and provider state live. Default $POCKETENV_DATA_DIR or ~/.pocketenv. */
  dataDir?: string;
  /** Default $POCKETENV_PORT or 8789; 0 picks a free port. */
  port?: number;
  /** Default $POCKETENV_HOST or 127.0.0.1. */
  host?: string;
  /** Postgres connection string; default $DATABASE_URL. When unset, SQLite in the data directory. */
  databaseUrl?: string;
  /** Default: a LocalProvider (state in <dataDir>/runtime/local), plus a DockerProvider per $POCKETENV_DOCKER. */
  providers?: Provider[];
  /** A keepAlive:false sandbox with no activity for this long is paused (see idleAction). Default $POCKETENV_IDLE_TIMEOUT or 15 min; 0 disables. */
  idleTimeoutMs?: number;
  /** What the idle reaper does to an idle sandbox: `pause` (default), `stop`, or `off`. Default $POCKETENV_IDLE_ACTION. */
  idleAction?: IdleAction;
  /**
   * A sandbox paused (by anyone) and unused for this long is stopped, freeing its memory.
   * Default $POCKETENV_IDLE_STOP_AFTER_PAUSED or 4 h; 0: paused sandboxes are never stopped.
   */
  stopAfterPausedMs?: number;
  /** JSON-lines logs on stderr. Default $POCKETENV_LOG (1/0, or `debug` for debug lines too), else on. */
  log?: boolean;
  /** Prepared sandboxes kept warm per base. Default $POCKETENV_POOL_SIZE or 2; 0 disables the pool. */
  poolSize?: number;
  /** Hosted provider names and the provider each runs on, `cloudflare=local,daytona=local`. Default $POCKETENV_PROVIDER_ALIASES. */
  providerAliases?: string;
  /**
   * A streaming-exec client that reads none of the waiting output for this long is cut off and
   * its command killed. Default $POCKETENV_EXEC_STALL_TIMEOUT or 30 s; 0: never (the exec's
   * timeout still applies).
   */
  execStallMs?: number;
  /** What to build in the background once listening (bases, `code-server`). Default $POCKETENV_PREBUILD; see {@link resolvePrebuild}. */
  prebuild?: string[];
  /** How long createSandbox waits for a base still being built. Default $POCKETENV_BASE_WAIT or 5 min. */
  baseWaitMs?: number;
}

/** What the idle reaper does to an idle sandbox. */
export type IdleAction = 'pause' | 'stop' | 'off';

export interface ServerConfig {
  dataDir: string;
  port: number;
  host: string;
  databaseUrl?: string;
  idleTimeoutMs: number;
  idleAction: IdleAction;
  stopAfterPausedMs: number;
  execStallMs: number;
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
  /** Hosted provider names the operator mapped (the others run on the default provider). */
  providerAliases: ProviderAliasSetting;
  /** The docker provider: `auto` (when an engine answers at $DOCKER_HOST or the default socket), `off`, or an endpoint URL. */
  docker: string;
  /** `auto`: disk quotas where the engine's storage driver can enforce them; `required`: refuse creates elsewhere. */
  dockerDiskLimit: 'auto' | 'required';
  /** Debug lines in the log too (POCKETENV_LOG=debug). */
  logDebug: boolean;
  /** Per-actor limits (POCKETENV_MAX_*, POCKETENV_EXEC_RATE/BURST). */
  limits: LimitsConfig;
  /** The warm pool (POCKETENV_POOL_*). */
  pool: PoolConfig;
  /** Copy store, archives and backups (POCKETENV_COPY_*, POCKETENV_BACKUP_MAX_TTL, POCKETENV_EXPIRY_SWEEP_INTERVAL). */
  transfer: TransferConfig;
  /** The local provider's machine-wide settings. */
  local: LocalProviderSettings;
  /** PATH for host commands the server spawns itself (the OCI runtime behind a terminal). */
  hostPath: string;
  /** Built in the background after the server starts listening, in this order (bases, `code-server`). */
  prebuild: string[];
  /** How long createSandbox waits for its base to be built before answering 503 NotReady. */
  baseWaitMs: number;
}

export interface LocalProviderSettings {
  /** Base image cache (POCKETENV_IMAGE_DIR). */
  imageDir: string;
  /** Shared tools such as code-server (POCKETENV_TOOLS_DIR). */
  toolsDir: string;
  /** Exec through the in-sandbox agent; off sends every exec through the OCI runtime (POCKETENV_EXEC_AGENT). */
  execAgent: boolean;
}

export const DEFAULT_PORT = 8789;
/** The name POCKETENV_PREBUILD uses for the shared VS Code build (not a base). */
export const CODE_SERVER_BUILD = 'code-server';
export const DEFAULT_BASE_WAIT_MS = 5 * 60_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 15 * 60_000;
export const DEFAULT_EXEC_STALL_MS = 30_000;
export const DEFAULT_STOP_AFTER_PAUSED_MS = 4 * 60 * 60_000;
/** Room for the largest sealed file the lexicon allows (1.4M base64url characters) plus JSON framing. */
export const JSON_LIMIT_BYTES = 2 * 1024 * 1024;

const DEFAULT_HOST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** $POCKETENV_DATA_DIR, else ~/.pocketenv. */
export function defaultDataDir(env: Env): string {
  return settingsFrom(env).string('POCKETENV_DATA_DIR') ?? path.join(os.homedir(), '.pocketenv');
}

/**
 * Resolves every setting from `opts` and `env` (the caller's snapshot of the environment:
 * `process.env` at an entry point). Throws a ConfigError naming the first bad variable.
 */
export function resolveConfig(opts: ServerOptions, env: Env): ServerConfig {
  const settings = settingsFrom(env);
  const idleTimeoutMs = opts.idleTimeoutMs ?? settings.duration('POCKETENV_IDLE_TIMEOUT', DEFAULT_IDLE_TIMEOUT_MS);
  const logSetting = settings.string('POCKETENV_LOG');
  const logDebug = logSetting?.toLowerCase() === 'debug';
  const pool = resolvePoolConfig(settings);
  const stopAfterPausedMs = opts.stopAfterPausedMs ?? settings.duration('POCKETENV_IDLE_STOP_AFTER_PAUSED', DEFAULT_STOP_AFTER_PAUSED_MS);
  return {
    dataDir: path.resolve(opts.dataDir ?? defaultDataDir(env)),
    port: opts.port ?? settings.integer('POCKETENV_PORT', DEFAULT_PORT, { min: 0, max: 65535 }),
    host: opts.host ?? settings.string('POCKETENV_HOST', '127.0.0.1'),
    databaseUrl: opts.databaseUrl ?? settings.string('DATABASE_URL'),
    idleTimeoutMs,
    idleAction: opts.idleAction ?? settings.choice('POCKETENV_IDLE_ACTION', 'pause', ['pause', 'stop', 'off'] as const),
    stopAfterPausedMs,
    execStallMs: opts.execStallMs ?? settings.duration('POCKETENV_EXEC_STALL_TIMEOUT', DEFAULT_EXEC_STALL_MS),
    reapIntervalMs: reapInterval(idleTimeoutMs, stopAfterPausedMs),
    stopOnExit: settings.boolean('POCKETENV_STOP_ON_EXIT', false),
    log: opts.log ?? (logDebug || settings.boolean('POCKETENV_LOG', true)),
    logDebug,
    jsonLimitBytes: JSON_LIMIT_BYTES,
    didHost: settings.string('POCKETENV_DID_HOST', 'localhost'),
    preview: resolvePreviewConfig(settings),
    providerAliases: parseProviderAliases(opts.providerAliases ?? settings.string('POCKETENV_PROVIDER_ALIASES')),
    limits: resolveLimits(settings),
    pool: opts.poolSize === undefined ? pool : { ...pool, size: opts.poolSize, max: Math.max(pool.max, opts.poolSize) },
    transfer: resolveTransferConfig(settings, env),
    local: {
      imageDir: settings.string('POCKETENV_IMAGE_DIR', DEFAULT_IMAGE_DIR),
      toolsDir: settings.string('POCKETENV_TOOLS_DIR', DEFAULT_TOOLS_DIR),
      execAgent: settings.boolean('POCKETENV_EXEC_AGENT', true),
    },
    hostPath: settings.string('PATH', DEFAULT_HOST_PATH),
    docker: settings.string('POCKETENV_DOCKER', 'auto'),
    dockerDiskLimit: settings.choice('POCKETENV_DOCKER_DISK_LIMIT', 'auto', ['auto', 'required'] as const),
    prebuild: opts.prebuild ?? resolvePrebuild(settings),
    baseWaitMs: opts.baseWaitMs ?? settings.duration('POCKETENV_BASE_WAIT', DEFAULT_BASE_WAIT_MS),
  };
}

/**
 * Check often enough that a sandbox overstays its idle (or paused) time by at most ~25 %, but
 * not more than once every 250 ms in tests nor less than once a minute in production.
 */
function reapInterval(...timeoutsMs: number[]): number {
  const shortest = Math.min(...timeoutsMs.filter((ms) => ms > 0), 240_000);
  return Math.min(60_000, Math.max(250, Math.floor(shortest / 4)));
}

/**
 * POCKETENV_PREBUILD: comma-separated bases (and `code-server`) to build in the background,
 * `none` for nothing. Default: what `pocketenv setup` builds (DEFAULT_BASES, then code-server),
 * except under vitest, where test servers share the machine's cache and must not start builds.
 */
function resolvePrebuild(settings: Settings): string[] {
  const raw = settings.string('POCKETENV_PREBUILD')?.trim();
  if (raw === undefined || raw === '') return settings.has('VITEST') ? [] : [...DEFAULT_BASES, CODE_SERVER_BUILD];
  if (raw === 'none') return [];
  return settings.list('POCKETENV_PREBUILD', []);
}
