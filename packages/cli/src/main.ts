/**
 * @module @pocketenv/cli
 * The `pocketenv` command. `main` is the only place that touches the process's exit.
 */
import { CommanderError } from 'commander';
import { commands } from './commands/index';
import { CliContext } from './context';
import { ExitCode } from './errors';
import { buildProgram, commandsFor } from './program';

/**
 * Runs the CLI with `argv` (as `process.argv`: node, script, args…), sets `process.exitCode`
 * and returns it.
 * @example
 * await main(['node', 'pocketenv', 'ls', '--json']);
 */
export async function main(argv: string[] = process.argv): Promise<number> {
  const ctx = new CliContext(process.stdout, process.stderr, process.env, (code) => process.exit(code));
  const program = buildProgram(ctx, commandsFor(commands, argv.slice(2)));
  let code: number;
  try {
    await program.parseAsync(argv);
    code = ctx.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has already printed the message (or the help / version).
      code = error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    } else {
      code = ctx.report(error);
    }
  }
  process.exitCode = code;
  return code;
}
