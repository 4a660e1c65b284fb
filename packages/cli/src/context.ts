import { type Client, pocketenv } from '@pocketenv/sdk';
import { toCliError } from './errors';
import { type Colors, colorEnabled, createColors } from './output/color';
import { withSpinner } from './output/spinner';

export interface OutStream {
  isTTY?: boolean;
  write(chunk: string | Uint8Array): boolean;
}

/** What the CLI reads and writes: the process's own (`processIo` in main.ts), or a test's. */
export interface CliIo {
  stdout: OutStream;
  stderr: OutStream;
  /** Streamed into `exec` when it is not a terminal; default: empty. */
  stdin?: { isTTY?: boolean } & AsyncIterable<Uint8Array | string>;
  /** Where every `POCKETENV_*` setting (API URL, token, data dir, colours) is read. */
  env: NodeJS.ProcessEnv;
  /** Ends the process at once; only for a second Ctrl+C during a graceful shutdown. Default: process.exit. */
  hardExit?: (code: number) => void;
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
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  /** Streamed into `exec` when it is not a terminal. */
  readonly stdin: { isTTY?: boolean } & AsyncIterable<Uint8Array | string>;
  readonly env: NodeJS.ProcessEnv;
  /** Ends the process at once; only for a second Ctrl+C during a graceful shutdown. */
  readonly hardExit: (code: number) => void;

  constructor(io: CliIo) {
    this.stdout = io.stdout;
    this.stderr = io.stderr;
    this.stdin = io.stdin ?? emptyInput();
    this.env = io.env;
    this.hardExit = io.hardExit ?? ((code) => process.exit(code));
    this.out = createColors(colorEnabled(this.stdout, this.env));
    this.err = createColors(colorEnabled(this.stderr, this.env));
  }

  /** A client from `--token`/`--api-url`, else the SDK's own defaults read from this context's env (and token file). */
  client(opts: ConnectionOptions): Client {
    return pocketenv.newClient(opts.token, { baseUrl: opts.apiUrl, env: this.env });
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

/** No input at all: a piped-in stdin that is already closed. */
async function* emptyInput(): AsyncGenerator<Uint8Array> {}
