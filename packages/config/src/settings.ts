/**
 * Reads named settings from one environment snapshot: an unset or empty variable gives the
 * default, anything else goes through the matching parser (which names the variable when it
 * throws). Config modules build their objects from this, once, at start.
 */
import {
  type DurationOptions,
  type NumberBounds,
  parseBoolean,
  parseByteSize,
  parseChoice,
  parseDuration,
  parseInteger,
  parseList,
  parseNumber,
  parseUrl,
} from './parsers';

export type Env = Readonly<Record<string, string | undefined>>;

export class Settings {
  constructor(private readonly env: Env) {}

  /** The raw value, or undefined when unset or empty (whitespace only counts as empty). */
  raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value;
  }

  /** Whether the variable is set to something (not empty). */
  has(name: string): boolean {
    return this.raw(name) !== undefined;
  }

  string(name: string, fallback: string): string;
  string(name: string): string | undefined;
  string(name: string, fallback?: string): string | undefined {
    return this.raw(name)?.trim() ?? fallback;
  }

  /** Milliseconds. */
  duration(name: string, fallbackMs: number, opts?: DurationOptions): number {
    const raw = this.raw(name);
    return raw === undefined ? fallbackMs : parseDuration(raw, name, opts);
  }

  /** Bytes. */
  size(name: string, fallback: number): number {
    const raw = this.raw(name);
    return raw === undefined ? fallback : parseByteSize(raw, name);
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.raw(name);
    return raw === undefined ? fallback : parseBoolean(raw, name);
  }

  integer(name: string, fallback: number, bounds?: NumberBounds): number {
    const raw = this.raw(name);
    return raw === undefined ? fallback : parseInteger(raw, name, bounds);
  }

  number(name: string, fallback: number, bounds?: NumberBounds): number {
    const raw = this.raw(name);
    return raw === undefined ? fallback : parseNumber(raw, name, bounds);
  }

  choice<T extends string>(name: string, fallback: T, choices: readonly T[]): T {
    const raw = this.raw(name);
    return raw === undefined ? fallback : parseChoice(raw, name, choices);
  }

  url(name: string, protocols?: readonly string[]): URL | undefined {
    const raw = this.raw(name);
    return raw === undefined ? undefined : parseUrl(raw, name, protocols);
  }

  list(name: string, fallback: string[]): string[] {
    const raw = this.raw(name);
    return raw === undefined ? fallback : parseList(raw);
  }
}

/** Settings read from `env` (pass `process.env` only at an entry point: `main`, `startServer`). */
export function settingsFrom(env: Env): Settings {
  return new Settings(env);
}
