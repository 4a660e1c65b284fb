/**
 * Runs the CLI in this process through `main(argv, io)`: the streams are collected, the
 * environment is exactly what the test gives (nothing of the test process's own POCKETENV_*
 * settings leaks in), and the exit code comes back as a value. For the real binary as a
 * process, see run-cli.ts.
 */
import { Readable } from 'node:stream';
import { main } from '../../src/main';

export interface MainResult {
  code: number;
  stdout: string;
  stderr: string;
}

function collector() {
  const chunks: Buffer[] = [];
  return {
    stream: {
      isTTY: false,
      write(chunk: string | Uint8Array): boolean {
        chunks.push(Buffer.from(chunk));
        return true;
      },
    },
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

/** `pocketenv …args` with `env` as its whole environment and `stdin` piped in (default: none). */
export async function runMain(args: string[], env: Record<string, string>, stdin?: string | Buffer): Promise<MainResult> {
  const out = collector();
  const err = collector();
  const input = Readable.from(stdin === undefined ? [] : [Buffer.from(stdin)]);
  const code = await main(args, { stdout: out.stream, stderr: err.stream, env: { ...env }, stdin: input });
  return { code, stdout: out.text(), stderr: err.text() };
}
