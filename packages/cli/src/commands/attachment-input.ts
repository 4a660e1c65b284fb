/**
 * Where `secret put`, `tailscale put` and `file put` get their values: piped stdin, or a prompt
 * that does not echo when stdin is a terminal. Secret values are never taken from the command
 * line, where they would end up in shell history and `ps`.
 * Piped input comes from the context's stdin; the hidden prompt needs the real terminal.
 */
import { CLIError, ExitCode } from '../errors';
import type { CliContext } from '../context';

/** Everything piped to stdin, as bytes. */
export async function readPipedStdin(ctx: CliContext): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/**
 * A secret value: piped stdin with trailing whitespace (the newline of `echo`) removed, else a
 * hidden prompt on a terminal.
 */
export async function readSecretValue(ctx: CliContext, label: string): Promise<string> {
  const value = ctx.stdin.isTTY ? await promptHidden(ctx, label) : (await readPipedStdin(ctx)).toString('utf8').replace(/\s+$/, '');
  if (value === '') {
    throw new CLIError(`no ${label.toLowerCase()} given`, ExitCode.USAGE, 'pipe it in (e.g. `printf %s "$VALUE" | pocketenv …`) or type it at the prompt');
  }
  return value;
}

/** Reads a line from the terminal without echoing it (Ctrl+C cancels). Only when stdin is the process's terminal. */
function promptHidden(ctx: CliContext, label: string): Promise<string> {
  const stdin = process.stdin;
  ctx.stderr.write(`${label}: `);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      ctx.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          finish();
          return resolve(value);
        }
        if (ch === '\u0003' || ch === '\u0004') {
          finish();
          return reject(new CLIError('cancelled', ExitCode.GENERIC));
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
