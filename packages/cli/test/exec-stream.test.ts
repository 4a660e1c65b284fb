/**
 * `pocketenv exec` streams: output is printed while the command still runs (here it waits for
 * the stdin we pipe in only after seeing its first line), piped stdin reaches the command, and
 * the CLI exits with the command's exit code.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startTestServer } from '@pocketenv/server/testing';
import { pocketenv, sandbox } from '@pocketenv/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/pocketenv.js', import.meta.url));

describe('pocketenv exec (streaming)', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    server = await startTestServer();
    const alice = await server.createActor('alice');
    await sandbox.create(sandbox.new(pocketenv.newClient(alice.token, { baseUrl: server.url }), 'cli-stream', 'debian', 'local'));
    env = { PATH: process.env.PATH, HOME: process.env.HOME, POCKETENV_API_URL: server.url, POCKETENV_TOKEN: alice.token, NO_COLOR: '1' };
  });
  afterAll(async () => {
    await server?.close();
  });

  it('prints output as it arrives, forwards piped stdin, and exits with the command’s code', async () => {
    const child = spawn(process.execPath, [BIN, 'exec', 'cli-stream', 'echo waiting; read line; echo "got:$line"; echo bye >&2; exit 4'], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let stdoutWhenWritten = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      // The command is blocked on `read` now: its first line can only have come by streaming.
      if (stdout.includes('waiting\n') && !stdoutWhenWritten) {
        stdoutWhenWritten = stdout;
        child.stdin.end('from the pipe\n');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stdoutWhenWritten).toBe('waiting\n');
    expect(stdout).toBe('waiting\ngot:from the pipe\n');
    expect(stderr).toBe('bye\n');
    expect(code).toBe(4);
  });
});
