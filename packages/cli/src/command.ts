import type { CliContext, ConnectionOptions } from './context';

/** A positional argument. */
export interface ArgDef {
  name: string;
  description: string;
  /** @default true */
  required?: boolean;
  variadic?: boolean;
}

/** An option, in commander's `flags` syntax (`-b, --base <name>`). */
export interface OptionDef {
  flags: string;
  description: string;
  default?: string | boolean | string[];
  /** Converts (and checks) the raw text; throw commander's `InvalidArgumentError` to reject it. */
  parse?: (value: string, previous: unknown) => unknown;
  /** Required options fail as usage errors when missing. */
  required?: boolean;
}

export type ArgValues = Record<string, string | string[] | undefined>;

/**
 * A command as data: `program.ts` turns these into commander commands. `A` and `O` type the
 * positional arguments (by name) and the options the command receives.
 */
export interface CommandDef<A = ArgValues, O = Record<string, unknown>> {
  name: string;
  aliases?: string[];
  description: string;
  args?: ArgDef[];
  options?: OptionDef[];
  /** Adds `--api-url` and `--token`. */
  connects?: boolean;
  /** Options after the first argument belong to the argument (for `exec … ls -la`). */
  passThroughOptions?: boolean;
  /** Extra help text shown after the options. */
  helpText?: string;
  subcommands?: CommandDef[];
  // Method syntax on purpose: it lets a CommandDef<{sandbox: string}> sit in a CommandDef[].
  run?(ctx: CliContext, args: A, opts: O & ConnectionOptions): Promise<void>;
}

/** Identity, for type inference at the definition site. */
export function defineCommand<A = ArgValues, O = Record<string, unknown>>(def: CommandDef<A, O>): CommandDef<A, O> {
  return def;
}
