import { HttpError, sandbox } from '@pocketenv/sdk';
import { defineCommand } from '../command';
import { CLIError, ExitCode } from '../errors';
import { findRunningSandbox } from '../resolve';

export const exec = defineCommand<{ sandbox: string; command: string[] }>({
  name: 'exec',
  description: 'Run a command in a running sandbox; exits with the command’s exit code',
  args: [
    { name: 'sandbox', description: 'name or id' },
    { name: 'command', description: 'the command and its arguments', variadic: true },
  ],
  connects: true,
  passThroughOptions: true,
  helpText: [
    'The command runs with `sh -c` in the sandbox workspace.',
    '  One argument is handed to the shell as written:  pocketenv exec box \'ls | wc -l\'',
    '  Several arguments are quoted one by one:         pocketenv exec box -- ls -la /tmp',
    'Options after the sandbox belong to the command; `--` before it is optional.',
    'Its stdout and stderr are printed unchanged as they are produced, piped-in stdin is',
    'streamed to it (a terminal\'s is not), and pocketenv exits with its exit code.',
  ].join('\n'),
  async run(ctx, args, opts) {
    const command = toShellCommand(args.command);
    if (command === '') throw new CLIError('no command given', ExitCode.USAGE, 'usage: pocketenv exec <sandbox> <command...>');
    const client = ctx.client(opts);
    const sb = await findRunningSandbox(client, args.sandbox);
    let result: { exitCode: number; timedOut?: boolean; truncated?: boolean };
    try {
      // Output is printed as it arrives; piped-in stdin streams to the command.
      result = await sandbox.execStream(sb, command, {
        onStdout: (chunk) => ctx.stdout.write(chunk),
        onStderr: (chunk) => ctx.stderr.write(chunk),
        stdin: ctx.stdin.isTTY ? undefined : ctx.stdin,
      });
    } catch (error) {
      // A server without the streaming route (e.g. an older one) answers the upgrade with 404.
      if (!(error instanceof HttpError) || !/HTTP 404/.test(error.message)) throw error;
      const buffered = await ctx.spin(`Running in ${sb.name}`, () => sandbox.exec(sb, command));
      ctx.stdout.write(buffered.stdout);
      ctx.stderr.write(buffered.stderr);
      result = buffered;
    }
    if (result.timedOut) ctx.note(ctx.err.yellow('pocketenv: the command was killed: it ran out of time'));
    if (result.truncated) ctx.note(ctx.err.yellow('pocketenv: the output was cut: it went over the server’s limit'));
    ctx.exitCode = result.exitCode;
  },
});

/**
 * argv → one `sh -c` string. A single argument is already a shell command line; several are
 * argv words, each quoted so that `exec box sh -c 'echo a; echo b'` means what it says.
 */
export function toShellCommand(argv: string[]): string {
  const words = argv[0] === '--' ? argv.slice(1) : argv; // passThroughOptions keeps a leading `--`
  if (words.length === 1) return words[0]!.trim() === '' ? '' : words[0]!;
  return words.map(shellQuote).join(' ');
}

function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_\/.,:=@%+-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
