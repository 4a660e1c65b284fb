/** The error every archive check throws (its own module so the header reader and the checks share it). */
import { PocketenvError } from './errors';

/**
 * An archive was refused or could not be read. `reason`: `too-large` (over `maxArchiveBytes`
 * compressed), `unsafe` (an entry could escape the target, a device file, a bomb, a header
 * tar programs read differently…), `invalid` (not tar+gzip, truncated, corrupt). `entry` names
 * the offending entry when there is one.
 */
export class ArchiveError extends PocketenvError {
  override name = 'ArchiveError';
  constructor(
    readonly reason: 'too-large' | 'unsafe' | 'invalid',
    message: string,
    readonly entry?: string,
  ) {
    super(message);
  }
}

export function unsafe(message: string, entry?: string): ArchiveError {
  return new ArchiveError('unsafe', message, entry);
}
