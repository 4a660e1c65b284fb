/**
 * What the object API adds to the official SDK's surface: streaming exec, file reads, quoted
 * `sh` interpolation, per-call options (signal, requestTimeoutMs, connection settings) and
 * the bridge to the seed-shaped functions. One sandbox for the whole file.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startTestServer, type TestServer } from '@pocketenv/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortedError,
  ArchiveError,
  env,
  InvalidRequestError,
  NotFoundError,
  pocketenv,
  RequestBuildError,
  Sandbox,
  sandbox as seed,
  TimeoutError,
} from '../src/index';

let server: TestServer;
let sb: Sandbox;
let tmp: string;

beforeAll(async () => {
  server = await startTestServer();
  const alice = await server.createActor('alice');
  Sandbox.configure({ token: alice.token, baseUrl: server.url });
  sb = await Sandbox.create({ base: 'debian', name: 'object-api' });
  tmp = await mkdtemp(path.join(os.tmpdir(), 'sdk-object-'));
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
  await server?.close();
});

describe('streaming exec on sb.exec', () => {
  it('hands output to the callbacks as it comes and still returns the whole result', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const result = await sb.exec('echo one; echo two >&2; sleep 0.2; echo three; exit 4', {
      onStdout: (data) => out.push(data),
      onStderr: (data) => err.push(data),
    });
    expect(out.join('')).toBe('one\nthree\n');
    expect(err.join('')).toBe('two\n');
    expect(result).toMatchObject({ stdout: 'one\nthree\n', stderr: 'two\n', exitCode: 4 });
  });

  it('feeds stdin as it comes, and closes it at the end of the source', async () => {
    // The input starts once the command is running (see the report: today's server can lose
    // stdin that arrives right behind the start frame).
    let running!: () => void;
    const ready = new Promise<void>((resolve) => (running = resolve));
    async function* lines() {
      await ready;
      yield 'first\n';
      yield new TextEncoder().encode('second\n');
    }
    const result = await sb.exec('echo ready; tr a-z A-Z', { stdin: lines(), onStdout: (data) => data.includes('ready') && running() });
    expect(result).toMatchObject({ stdout: 'ready\nFIRST\nSECOND\n', exitCode: 0 });
  });

  it('keeps multi-byte characters whole and reports a command timeout as timedOut', async () => {
    // Each character's bytes are split across two writes, so across two output chunks.
    const pieces: string[] = [];
    const split = await sb.exec("printf 'h\\303'; sleep 0.3; printf '\\251 \\360\\237'; sleep 0.3; printf '\\221\\213'", { onStdout: (d) => pieces.push(d) });
    expect(split.stdout).toBe('hé 👋');
    expect(pieces.join('')).toBe('hé 👋');
    const slow = await sb.exec('sleep 30', { onStdout: () => {}, timeoutMs: 500 });
    expect(slow.timedOut).toBe(true);
  });

  it('rejects with AbortedError when the signal aborts, and with a callback’s own error when it throws', async () => {
    const controller = new AbortController();
    const running = sb.exec('echo started; sleep 30', { onStdout: () => controller.abort(), signal: controller.signal });
    await expect(running).rejects.toBeInstanceOf(AbortedError);

    const boom = new Error('my callback failed');
    await expect(sb.exec('echo x; sleep 30', { onStdout: () => { throw boom; } })).rejects.toBe(boom);
  });
});

describe('sb.file.read', () => {
  it('reads text, and bytes exactly (binary-safe)', async () => {
    await sb.sh`printf 'line 1\nline 2\n' > /workspace/notes.txt`;
    expect(await sb.file.read('/workspace/notes.txt')).toBe('line 1\nline 2\n');

    const bytes = randomBytes(200_000);
    await writeFile(path.join(tmp, 'blob.bin'), bytes);
    await sb.copy.upload(path.join(tmp, 'blob.bin'), '/workspace/in');
    const back = await sb.file.read('/workspace/in/blob.bin', { format: 'bytes' });
    expect(back).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(back).equals(bytes)).toBe(true);
  });

  it('follows symbolic links (relative and absolute), and reads attached files', async () => {
    await sb.sh`ln -sf notes.txt /workspace/link && ln -sf /workspace/link /workspace/link2`;
    expect(await sb.file.read('/workspace/link2')).toBe('line 1\nline 2\n');
    await expect(sb.file.read('workspace/link2')).rejects.toThrow(/must be absolute/);
    await sb.file.write('/workspace/attached.json', '{"sealed":true}');
    expect(await sb.file.read('/workspace/attached.json')).toBe('{"sealed":true}');
  });

  it('refuses directories, missing files and files over maxBytes with errors that say so', async () => {
    await expect(sb.file.read('/workspace')).rejects.toThrow(/is a directory/);
    await expect(sb.file.read('/workspace')).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(sb.file.read('/workspace/missing.txt')).rejects.toSatisfy(
      (e: unknown) => e instanceof NotFoundError && /missing\.txt does not exist/.test(e.message),
    );
    await expect(sb.file.read('/workspace/in/blob.bin', { maxBytes: 1000 })).rejects.toSatisfy(
      (e: unknown) => e instanceof ArchiveError && e.reason === 'too-large',
    );
  });
});

describe('sb.sh', () => {
  it('passes each interpolated value as one word, so a value cannot inject shell code', async () => {
    const hostile = "x'; echo INJECTED; echo '$(id)";
    expect((await sb.sh`printf %s ${hostile}`).stdout).toBe(hostile);
    expect((await sb.sh`printf '[%s]' ${['a b', '', 'c']} ${42}`).stdout).toBe('[a b][][c][42]');
    const { sh } = sb; // still bound
    expect((await sh`echo ${'plain'}`).stdout).toBe('plain\n');
  });

  it('runs a plain string as written, and refuses undefined values before sending', async () => {
    expect((await sb.sh('echo a b | wc -w')).stdout.trim()).toBe('2');
    await expect(sb.sh`echo ${undefined}`).rejects.toBeInstanceOf(RequestBuildError);
  });
});

describe('per-call options and the bridge to the seed functions', () => {
  it('gives up with TimeoutError after requestTimeoutMs, and AbortedError on an aborted signal', async () => {
    await expect(sb.exec('sleep 20', { requestTimeoutMs: 300 })).rejects.toBeInstanceOf(TimeoutError);
    await expect(sb.env.list({ signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError);
    await expect(Sandbox.get(sb.id, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError);
  });

  it('seals with the key it is given: a wrong publicKey makes the server refuse the secret', async () => {
    const wrong = await Sandbox.get(sb.id, { publicKey: '11'.repeat(32) });
    await expect(wrong.secret.put('TOKEN', 'value')).rejects.toBeInstanceOf(InvalidRequestError);
    await sb.secret.put('TOKEN', 'value'); // the server's own key, from describeServer
    expect((await sb.sh`echo $TOKEN`).stdout).toBe('value\n');
  });

  it('is a ConnectedSandbox for the seed functions, and wraps one from them', async () => {
    await env.put(sb, 'FROM_SEED', 'yes');
    expect((await sb.env.list()).variables.map((v) => v.name)).toContain('FROM_SEED');

    const client = pocketenv.newClient(sb.client.token, { baseUrl: server.url });
    const connected = seed.connect((await seed.get(client, 'object-api'))!, client);
    const wrapped = Sandbox.from(connected);
    expect((await wrapped.sh`echo $FROM_SEED`).stdout).toBe('yes\n');
    expect((await Sandbox.get('object-api', { client })).id).toBe(sb.id);
  });

  it('generates, puts and reads back SSH keys (masked)', async () => {
    const pair = await sb.sshKeys.generate('me@test');
    expect(pair.publicKey).toMatch(/^ssh-ed25519 \S+ me@test$/);
    expect(await sb.getSshKeys()).toBeNull();
    await sb.putSshKey(pair.publicKey, pair.privateKey);
    const keys = await sb.getSshKeys();
    expect(keys?.publicKey).toBe(pair.publicKey);
    expect(keys?.privateKey).not.toBe(pair.privateKey);
    expect((await sb.sh`cat /root/.ssh/id_ed25519.pub`).stdout.trim()).toBe(pair.publicKey);
  });
});
