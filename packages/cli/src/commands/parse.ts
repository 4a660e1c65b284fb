import { ConfigError, parseDuration } from '@pocketenv/config';
import { InvalidArgumentError } from 'commander';

/** Option parser for a positive whole number (`--vcpus 2`). Range checks are the server's. */
export function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('expected a whole number.');
  return Number(value);
}

/** Option parser for a positive number, fractions allowed (`--memory 0.5`). */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number.');
  return n;
}

/**
 * A duration option (`--ttl 3600`, `90m`, `12h`, `7d`) → whole seconds, more than zero. Same
 * syntax as the server's duration settings (one parser, @pocketenv/config).
 */
export function durationSeconds(value: string): number {
  let ms: number;
  try {
    ms = parseDuration(value, 'duration', { allowZero: false });
  } catch (error) {
    if (error instanceof ConfigError) throw new InvalidArgumentError('expected a duration such as 3600, 90m, 12h or 7d.');
    throw error;
  }
  if (ms % 1000 !== 0) throw new InvalidArgumentError('expected whole seconds, e.g. 90s, 90m, 12h or 7d.');
  return ms / 1000;
}
