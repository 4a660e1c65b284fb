import { createRequire } from 'node:module';
import { Command, Option } from 'commander';
import type { CommandDef } from './command';
import type { CliContext } from './context';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

const CONNECTION_OPTIONS = [
  ['--api-url <url>', 'Pocketenv API URL (default: $POCKETENV_API_URL, else http://127.0.0.1:8789)'],
  ['--token <token>', 'API token (default: $POCKETENV_TOKEN, else the token file)'],
] as const;

/**
 * The commands a command line needs registered: just the one it names, when it names one
 * (possibly after --api-url/--token), else all of them (for --help, `help`, --version and the
 * unknown-command message). Building commander's objects for every command and option costs
 * more CPU than running `ls` itself, and agents start the CLI in loops.
 */
export function commandsFor(defs: CommandDef[], args: string[]): CommandDef[] {
  const valued = new Set(CONNECTION_OPTIONS.map(([flags]) => flags.split(' ')[0]));
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (valued.has(arg)) i++;
    else if ([...valued].some((flag) => arg.startsWith(`${flag}=`))) continue;
    else if (arg.startsWith('-')) return defs;
    else {
      const named = defs.find((def) => def.name === arg || def.aliases?.includes(arg));
      return named ? [named] : defs;
    }
  }
  return defs;
}

/** Builds the commander program for `defs`. Parsing errors throw (exitOverride); main maps them. */
export function buildProgram(ctx: CliContext, defs: CommandDef[]): Command {
  const program = new Command('pocketenv')
    .description('Self-hosted Pocketenv: create, run and manage sandboxes.')
    .version(version, '-v, --version')
    .enablePositionalOptions()
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      writeOut: (text) => void ctx.stdout.write(text),
      writeErr: (text) => void ctx.stderr.write(text),
      outputError: (text, write) => write(text.replace(/^error:/, ctx.err.red('error:'))),
    });
  for (const [flags, description] of CONNECTION_OPTIONS) program.option(flags, description);
  for (const def of defs) addCommand(program, def, ctx);
  return program;
}

function addCommand(parent: Command, def: CommandDef, ctx: CliContext): void {
  const cmd = parent.command(def.name).description(def.description);
  for (const alias of def.aliases ?? []) cmd.alias(alias);
  for (const arg of def.args ?? []) {
    const name = `${arg.name}${arg.variadic ? '...' : ''}`;
    cmd.argument(arg.required === false ? `[${name}]` : `<${name}>`, arg.description);
  }
  for (const opt of def.options ?? []) {
    const option = new Option(opt.flags, opt.description);
    if (opt.parse) option.argParser(opt.parse);
    if (opt.default !== undefined) option.default(opt.default);
    if (opt.required) option.makeOptionMandatory();
    cmd.addOption(option);
  }
  if (def.connects) for (const [flags, description] of CONNECTION_OPTIONS) cmd.option(flags, description);
  if (def.passThroughOptions) cmd.passThroughOptions();
  if (def.helpText) cmd.addHelpText('after', `\n${def.helpText}`);
  for (const sub of def.subcommands ?? []) addCommand(cmd, sub, ctx);

  const run = def.run;
  if (!run) return;
  cmd.action(async (...params: unknown[]) => {
    const self = params[params.length - 1] as Command;
    const args: Record<string, string | string[] | undefined> = {};
    (def.args ?? []).forEach((arg, i) => {
      args[arg.name] = params[i] as string | string[] | undefined;
    });
    await run.call(def, ctx, args, self.optsWithGlobals());
  });
}
