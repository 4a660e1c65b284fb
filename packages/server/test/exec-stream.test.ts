/**
 * Streaming exec (`/exec/<sandbox>/ws`, src/exec-stream) through the SDK's sandbox.execStream:
 * output arrives while the command still runs, stdin streams in, the exit code comes last,
 * timeouts and disconnects end the command, and only the owner may use it.
 */
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortedError,
  AuthenticationError,
  ConnectedSandbox,
  InvalidRequestError,
  SandboxNotFoundError,
  pocketenv,
  sandbox,
} from '@pocketenv/sdk';
import { startTestServer, type TestServer } from '../src/testing';
import { waitFor } from './helpers';

let server: TestServer;
let sb: ConnectedSandbox;

beforeAll(async () => {
  server = await startTestServer();
  const client = pocketenv.newClient(server.ownerToken, { baseUrl: server.url });
  sb = await sandbox.create(sandbox.new(client, 'stream-box', 'debian', 'local'));
});

afterAll(async () => {
  await server?.close();
});

describe('sandbox.execStream', () => {
  it('delivers output before the command ends, streams stdin in, and returns the exit code', async () => {
    let out = '';
    let err = '';
    let sawFirst!: () => void;
    const first = new Promise<void>((resolve) => (sawFirst = resolve));
    let outputBeforeStdin = '';
    async function* stdin() {
      // Only once the first line arrived does the command get its input: it is still running then.
      await first;
      outputBeforeStdin = out;
      yield 'hello\n';
    }
    const result = await sandbox.execStream(sb, 'echo first; read line; echo "got:$line"; echo oops >&2; exit 7', {
      onStdout: (c) => {
        out += c.toString();
        if (out.includes('first\n')) sawFirst();
      },
      onStderr: (c) => (err += c.toString()),
      stdin: stdin(),
      cwd: '/tmp',
      env: { EXTRA: 'x' },
    });
    expect(outputBeforeStdin).toBe('first\n');
    expect(out).toBe('first\ngot:hello\n');
    expect(err).toBe('oops\n');
    expect(result).toEqual({ exitCode: 7, timedOut: false });
  });

  it('passes binary stdin and output unchanged, with cwd and env', async () => {
    const input = randomBytes(256 * 1024);
    const chunks: Buffer[] = [];
    const r = await sandbox.execStream(sb, 'cat', { stdin: input, onStdout: (c) => chunks.push(Buffer.from(c)) });
    expect(r.exitCode).toBe(0);
    expect(Buffer.concat(chunks).equals(input)).toBe(true);

    let text = '';
    await sandbox.execStream(sb, 'pwd; echo "$EXTRA"', { cwd: '/tmp', env: { EXTRA: 'x y' }, onStdout: (c) => (text += c.toString()) });
    expect(text).toBe('/tmp\nx y\n');
  });

  it('keeps stdin sent in the same breath as the start frame (no frame lost while the command starts)', async () => {
    // Repeated: the frames race the server's own start-up work, and the race lost them before.
    for (let i = 0; i < 5; i++) {
      const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/exec/${sb.data.id}/ws`, { headers: { authorization: `Bearer ${server.ownerToken}` } });
      const stdout: Buffer[] = [];
      const exit = new Promise<number>((resolve, reject) => {
        ws.on('message', (data: Buffer, isBinary: boolean) => {
          if (isBinary && data[0] === 1) stdout.push(data.subarray(1));
          if (!isBinary) {
            const frame = JSON.parse(data.toString());
            if (frame.type === 'exit') resolve(frame.exitCode);
          }
        });
        ws.on('close', (code) => reject(new Error(`closed ${code} before the exit frame`)));
        ws.on('error', reject);
      });
      await new Promise((resolve) => ws.once('open', resolve));
      ws.send(JSON.stringify({ type: 'start', command: 'tr a-z A-Z' }));
      ws.send(Buffer.from(`hello ${i}\n`));
      ws.send(JSON.stringify({ type: 'eof' }));
      expect(await exit).toBe(0);
      expect(Buffer.concat(stdout).toString()).toBe(`HELLO ${i}\n`);
      ws.close();
    }
  });

  it('kills the command on timeout and when the client goes away', async () => {
    const timed = await sandbox.execStream(sb, 'sleep 3011 & sleep 3011', { timeoutMs: 500 });
    expect(timed.timedOut).toBe(true);
    expect(timed.exitCode).not.toBe(0);

    const ac = new AbortController();
    const pending = sandbox.execStream(sb, 'sleep 3012 & echo up; sleep 3012', {
      signal: ac.signal,
      onStdout: () => ac.abort(),
    });
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    await waitFor('the abandoned command to end', async () => {
      const r = await sandbox.exec(sb, 'pgrep -f "sleep 301[12]" || true');
      return r.stdout.trim() === '' ? true : undefined;
    }, 20_000);
  });

  it('refuses strangers, other owners and sandboxes that are not running', async () => {
    const anonymous = new ConnectedSandbox(sb.data, pocketenv.newClient('not-a-token', { baseUrl: server.url }));
    await expect(sandbox.execStream(anonymous, 'true')).rejects.toBeInstanceOf(AuthenticationError);

    const bob = await server.createActor('bob');
    const asBob = new ConnectedSandbox(sb.data, pocketenv.newClient(bob.token, { baseUrl: server.url }));
    await expect(sandbox.execStream(asBob, 'echo pwned')).rejects.toBeInstanceOf(SandboxNotFoundError);

    await sandbox.stop(sb);
    await expect(sandbox.execStream(sb, 'true')).rejects.toBeInstanceOf(InvalidRequestError);
    await sandbox.start(sb);
  });
});
