/**
 * One parser per kind of setting. Each takes the raw text and the name it came from (an
 * environment variable or a CLI option) and returns the value, or throws a ConfigError naming
 * that source and saying what is expected. They never read the environment themselves.
 */
import { ConfigError } from './errors';

const shown = (value: string) => JSON.stringify(value);

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export interface DurationOptions {
  /** Whether 0 is accepted (usually "off"). Default true. */
  allowZero?: boolean;
}

/**
 * `500ms`, `30s`, `15m`, `2h`, `7d` → milliseconds; a bare number means seconds.
 * @example
 * parseDuration('15m', 'POCKETENV_IDLE_TIMEOUT'); // 900000
 */
export function parseDuration(value: string, name: string, opts: DurationOptions = {}): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
  if (!match) throw new ConfigError(name, `${shown(value)} is not a duration; use e.g. 30s, 15m, 2h or 7d (a bare number is seconds)`);
  const ms = Math.round(Number(match[1]) * DURATION_UNITS_MS[match[2] ?? 's']!);
  if (ms === 0 && opts.allowZero === false) throw new ConfigError(name, `must be more than zero; got ${shown(value)}`);
  return ms;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: KiB, kb: KiB, kib: KiB, m: MiB, mb: MiB, mib: MiB, g: GiB, gb: GiB, gib: GiB };

/**
 * `1048576`, `512MiB`, `2G`, `64k` (binary units, case-insensitive) → bytes, more than zero.
 * @example
 * parseByteSize('512MiB', 'POCKETENV_COPY_MAX_BYTES'); // 536870912
 */
export function parseByteSize(value: string, name: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new ConfigError(name, `${shown(value)} is not a size; use e.g. 1048576, 512MiB or 2GiB`);
  const bytes = Math.floor(Number(match[1]) * unit);
  if (bytes <= 0) throw new ConfigError(name, `must be more than zero; got ${shown(value)}`);
  return bytes;
}

const TRUE = new Set(['1', 'true', 'on', 'yes']);
const FALSE = new Set(['0', 'false', 'off', 'no']);

/** `1`/`true`/`on`/`yes` or `0`/`false`/`off`/`no` (any case). */
export function parseBoolean(value: string, name: string): boolean {
  const v = value.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new ConfigError(name, `${shown(value)} is not on or off; use 1, 0, true, false, on or off`);
}

export interface NumberBounds {
  min?: number;
  max?: number;
}

function range(bounds: NumberBounds): string {
  if (bounds.min !== undefined && bounds.max !== undefined) return ` between ${bounds.min} and ${bounds.max}`;
  if (bounds.min !== undefined) return ` of at least ${bounds.min}`;
  if (bounds.max !== undefined) return ` of at most ${bounds.max}`;
  return '';
}

/** A whole number within `bounds` (inclusive). */
export function parseInteger(value: string, name: string, bounds: NumberBounds = {}): number {
  const n = /^\s*-?\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || (bounds.min !== undefined && n < bounds.min) || (bounds.max !== undefined && n > bounds.max)) {
    throw new ConfigError(name, `${shown(value)} is not a whole number${range(bounds)}`);
  }
  return n;
}

/** A number (fractions allowed) within `bounds` (inclusive). */
export function parseNumber(value: string, name: string, bounds: NumberBounds = {}): number {
  const n = value.trim() === '' ? Number.NaN : Number(value);
  if (!Number.isFinite(n) || (bounds.min !== undefined && n < bounds.min) || (bounds.max !== undefined && n > bounds.max)) {
    throw new ConfigError(name, `${shown(value)} is not a number${range(bounds)}`);
  }
  return n;
}

/** One of `choices` (case-insensitive; returned as listed). */
export function parseChoice<T extends string>(value: string, name: string, choices: readonly T[]): T {
  const v = value.trim().toLowerCase();
  const found = choices.find((c) => c.toLowerCase() === v);
  if (found === undefined) throw new ConfigError(name, `${shown(value)} is not one of ${choices.join(', ')}`);
  return found;
}

/** An absolute URL with one of `protocols` (default http and https). */
export function parseUrl(value: string, name: string, protocols: readonly string[] = ['http', 'https']): URL {
  let url: URL | undefined;
  try {
    url = new URL(value.trim());
  } catch {
    url = undefined;
  }
  if (!url || !protocols.includes(url.protocol.replace(/:$/, ''))) {
    throw new ConfigError(name, `${shown(value)} is not a URL; use e.g. ${protocols[0]}://example.com`);
  }
  return url;
}

/** A comma-separated list, trimmed, empty items dropped. */
export function parseList(value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter(Boolean);
}
