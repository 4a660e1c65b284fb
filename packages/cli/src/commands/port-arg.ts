import { CLIError, ExitCode } from '../errors';

/** A port given as a positional argument (`expose my-box 3000`); the range is the server's to check. */
export function portArg(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new CLIError(`port must be a whole number, got ${JSON.stringify(value)}`, ExitCode.USAGE);
  return Number(value);
}
