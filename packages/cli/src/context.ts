import { type Client, pocketenv } from '@pocketenv/sdk';
import { toCliError } from './errors';
import { type Colors, colorEnabled, createColors } from './output/color';
import { withSpinner } from './output/spinner';

export interface OutStream {
  isTTY?: boolean;
  write(chunk: string | Uint8Array): boolean;
}

/** `--api-url` and `--token`, accepted by every command that talks to a server. */
export interface ConnectionOptions {
  apiUrl?: string;
  token?: string;
}

/**
 * What a command may touch: its output streams, the environment, a client, a spinner, and the
 * exit code. Commands never call `process.*` themselves, so `main` owns the process.
 */
export class CliContext {
  /** Colours for text written to stdout / stderr (each stream decides for itself). */
  readonly out: Colors;
  readonly err: Colors;
  /** What the process exits with when the command returns normally. */
  exitCode = 0;
  /** The process's stdin (streamed into `exec` when it is not a terminal). */
  stdin: { isTTY?: boolean } & AsyncIterable<Uint8Array | string> = process.stdin;

  constructor(
    readonly stdout: OutStream,
    readonly stderr: OutStream,
    readonly env: NodeJS.ProcessEnv,
    /** Ends the process at once; only for a second Ctrl+C during a graceful shutdown. */
    readonly hardExit: (code: number) => void,
  ) {
    this.out = createColors(colorEnabled(stdout, env));
    this.err = createColors(colorEnabled(stderr, env));
  }

  /** A client from `--token`/`--api-url`, else the SDK's own defaults (env, token file). */
  client(opts: ConnectionOptions): Client {
    return pocketenv.newClient(opts.token, { baseUrl: opts.apiUrl });
  }

  /** Writes a line to stdout. */
  print(line = ''): void {
    this.stdout.write(`${line}\n`);
  }

  /** Writes a line to stderr (notes and hints that are not the command's result). */
  note(line: string): void {
    this.stderr.write(`${line}\n`);
  }

  /** Prints `value` as indented JSON on stdout. */
  json(value: unknown): void {
    this.print(JSON.stringify(value, null, 2));
  }

  /** Runs `work` with a spinner on stderr if it takes more than a second (terminal only); a function label may change. */
  spin<T>(label: string | (() => string), work: () => Promise<T>): Promise<T> {
    return withSpinner(this.stderr, label, work);
  }

  /** Prints an error (and its hint) on stderr; returns the exit code it stands for. */
  report(error: unknown): number {
    const failure = toCliError(error);
    this.stderr.write(`${this.err.red('error:')} ${failure.message}\n`);
    if (failure.hint) this.stderr.write(`${this.err.dim(`hint: ${failure.hint}`)}\n`);
    return failure.exitCode;
  }

  /** Records a failure without stopping: the first one decides the exit code. */
  fail(error: unknown): void {
    const code = this.report(error);
    if (this.exitCode === 0) this.exitCode = code;
  }
}
