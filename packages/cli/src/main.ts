/**
 * @module @pocketenv/cli
 * The `pocketenv` command. `main` runs one command line against the streams and environment
 * it is given and returns the exit code; only `bin/pocketenv.js` ends the process.
 */
import { CommanderError } from 'commander';
import { commands } from './commands/index';
import { CliContext, type CliIo } from './context';
import { ExitCode } from './errors';
import { buildProgram, commandsFor } from './program';

/** The real process's streams and environment. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, hardExit: (code) => process.exit(code) };
}

/**
 * Runs the CLI with `argv` (the arguments only, as `process.argv.slice(2)`) and resolves with
 * the exit code. `io` defaults to the process's own streams and environment; tests pass their
 * own (see {@link CliIo}).
 * @example
 * const code = await main(['ls', '--json']);
 */
export async function main(argv: string[] = process.argv.slice(2), io: CliIo = processIo()): Promise<number> {
  const ctx = new CliContext(io);
  // Only the command being run is registered (and so loaded), unless help needs them all.
  const program = buildProgram(ctx, commandsFor(commands, argv));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has already printed the message (or the help / version).
      return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    return ctx.report(error);
  }
}
