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
