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

/** `--isolation`: passed to the server as given (it answers 400 naming the levels it has). */
export function isolationLevel(value: string): string {
  const level = value.trim();
  if (!level) throw new InvalidArgumentError('expected an isolation level such as standard or gvisor.');
  return level;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** A duration option (`--ttl 3600`, `90m`, `12h`, `7d`) → seconds. */
export function durationSeconds(value: string): number {
  const match = /^\s*(\d+)\s*([smhd]?)\s*$/.exec(value);
  if (!match || Number(match[1]) <= 0) throw new InvalidArgumentError('expected a duration such as 3600, 90m, 12h or 7d.');
  return Number(match[1]) * UNIT_SECONDS[match[2] || 's']!;
}
