/**
 * Limits and lifetimes of the copy store and backups, from the environment (read once at start
 * by resolveConfig; a bad value stops the server with a message naming the variable):
 *
 * | Variable | Default | Meaning |
 * |---|---|---|
 * | POCKETENV_COPY_MAX_BYTES | 512MiB | largest archive, compressed (upload, pushDirectory, backup) |
 * | POCKETENV_COPY_MAX_UNPACKED_BYTES | 4GiB | largest archive once decompressed (stops gzip bombs) |
 * | POCKETENV_COPY_MAX_ENTRIES | 500000 | most entries in one archive |
 * | POCKETENV_COPY_TTL | 1h | how long the copy store keeps an archive |
 * | POCKETENV_COPY_TIMEOUT | 30m | longest tar run inside a sandbox |
 * | POCKETENV_BACKUP_MAX_TTL | 720h | longest `ttl` createBackup accepts (default ttl: 3 days) |
 * | POCKETENV_EXPIRY_SWEEP_INTERVAL | 60s | how often expired archives and backups are deleted |
 */
import type { Settings } from '@pocketenv/config';
import { type ArchiveLimits, archiveLimitsFromEnv } from '@pocketenv/sdk/archive';

export interface TransferConfig {
  limits: ArchiveLimits;
  copyTtlMs: number;
  execTimeoutMs: number;
  backupDefaultTtlSeconds: number;
  backupMaxTtlSeconds: number;
  sweepIntervalMs: number;
}

/** The contract's default backup lifetime. */
export const DEFAULT_BACKUP_TTL_SECONDS = 3 * 24 * 3600;

export function resolveTransferConfig(settings: Settings, env: Readonly<Record<string, string | undefined>>): TransferConfig {
  const duration = (name: string, fallbackMs: number) => settings.duration(name, fallbackMs, { allowZero: false });
  return {
    limits: archiveLimitsFromEnv(env),
    copyTtlMs: duration('POCKETENV_COPY_TTL', 3_600_000),
    execTimeoutMs: duration('POCKETENV_COPY_TIMEOUT', 30 * 60_000),
    backupDefaultTtlSeconds: DEFAULT_BACKUP_TTL_SECONDS,
    backupMaxTtlSeconds: Math.floor(duration('POCKETENV_BACKUP_MAX_TTL', 720 * 3_600_000) / 1000),
    sweepIntervalMs: duration('POCKETENV_EXPIRY_SWEEP_INTERVAL', 60_000),
  };
}
