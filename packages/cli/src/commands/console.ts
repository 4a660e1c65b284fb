import { type Client, type ConnectedSandbox, sandbox, terminal } from '@pocketenv/sdk';
import { defineCommand } from '../command';
import type { CliContext } from '../context';
import { CLIError, ExitCode } from '../errors';
import { findSandbox, requireRunning } from '../resolve';

/** Size sent when stdout is not a terminal (piped use). */
const FALLBACK_SIZE = { cols: 80, rows: 24 };

export const consoleCommand = defineCommand<{ sandbox?: string }>({
  name: 'console',
  aliases: ['shell', 'ssh'],
  description: 'Open an interactive shell in a running sandbox; exits with the shell’s exit code',
  args: [{ name: 'sandbox', description: 'name or id (default: your first running sandbox)', required: false }],
  connects: true,
  helpText: [
    'Your keystrokes go to the sandbox as typed (Ctrl+C interrupts the remote command, not',
    'pocketenv); resizing your window resizes the remote terminal. The shell has the sandbox’s',
    'variables and secrets in its environment. `exit` (or Ctrl+D) ends it, and pocketenv exits',
    'with its exit code. Closing your terminal hangs up the shell, as with SSH.',
  ].join('\n'),
  async run(ctx, args, opts) {
    const client = ctx.client(opts);
    const sb = requireRunning(args.sandbox ? await findSandbox(client, args.sandbox) : await firstRunning(ctx, client));
    const term = await terminal.open(sb, windowSize());
    ctx.exitCode = await attach(ctx, term);
  },
});

/** Without a name: the caller's first running sandbox, as the hosted CLI does. */
async function firstRunning(ctx: CliContext, client: Client): Promise<ConnectedSandbox> {
  const { sandboxes } = await sandbox.list(client, 100, 0);
  const running = sandboxes.find((s) => s.status === 'RUNNING');
  if (!running) throw new CLIError('none of your sandboxes is running', ExitCode.NOT_FOUND, 'start one with `pocketenv start <name>`');
  ctx.note(ctx.err.dim(`Connecting to ${running.name}…`));
  return sandbox.connect(running, client);
}

function windowSize(): { cols: number; rows: number } {
  const out = process.stdout;
  return out.isTTY && out.columns > 0 && out.rows > 0 ? { cols: out.columns, rows: out.rows } : FALLBACK_SIZE;
}

/**
 * Joins this process's terminal to the remote one until the shell ends. The console IS this
 * process's terminal, so this is the one command that touches process.stdin and signals;
 * everything it changes (raw mode, listeners) is undone before it returns.
 */
async function attach(ctx: CliContext, term: terminal.Terminal): Promise<number> {
  const stdin = process.stdin;
  const wasRaw = stdin.isTTY ? stdin.isRaw : false;
  let hungUp = false;

  term.onData((data) => ctx.stdout.write(data));
  const onInput = (data: Buffer) => term.write(data);
  // Piped input: its end is the end of typing, as Ctrl+D would be.
  const onEnd = () => term.write('\x04');
  const onResize = () => {
    const { cols, rows } = windowSize();
    term.resize(cols, rows);
  };
  const onHangup = () => {
    hungUp = true;
    term.close();
  };

  if (stdin.isTTY) stdin.setRawMode(true);
  stdin.on('data', onInput);
  stdin.on('end', onEnd);
  stdin.resume();
  process.on('SIGWINCH', onResize);
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) process.on(signal, onHangup);
  try {
    const code = await term.exited;
    if (code !== undefined) return code;
    if (!hungUp) ctx.note(ctx.err.yellow('pocketenv: the server closed the terminal'));
    return hungUp ? ExitCode.OK : ExitCode.GENERIC;
  } finally {
    process.off('SIGWINCH', onResize);
    for (const signal of ['SIGTERM', 'SIGHUP'] as const) process.off(signal, onHangup);
    stdin.off('data', onInput);
    stdin.off('end', onEnd);
    if (stdin.isTTY) stdin.setRawMode(wasRaw);
    stdin.pause();
  }
}
