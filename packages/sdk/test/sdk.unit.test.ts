/**
 * The SDK against a server on the fake provider (no root, no images): the seed flow, streaming
 * exec, variables and sealed secrets and files reaching commands, and the error classes a
 * caller catches. The SDK's own tests against the local provider are the other files here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '@pocketenv/server/testing';
import {
  AuthenticationError,
  type Client,
  ConflictError,
  ConnectedSandbox,
  env,
  files,
  InvalidRequestError,
  pocketenv,
  sandbox,
  SandboxNotFoundError,
  secrets,
} from '../src/index';

let server: TestServer;
let client: Client;
let other: Client;

beforeAll(async () => {
  server = await startTestServer({ providers: 'fake' });
  client = pocketenv.newClient((await server.createActor('alice-fast')).token, { baseUrl: server.url });
  other = pocketenv.newClient((await server.createActor('mallory-fast')).token, { baseUrl: server.url });
});

afterAll(async () => {
  await server?.close();
});

describe('the seed flow', () => {
  it('new → withDescription → create → start → exec → stop → delete', async () => {
    const sb = await sandbox.create(sandbox.withDescription(sandbox.new(client, 'sdk-fast', 'host', 'fake'), 'the seed flow'));
    expect(sb).toBeInstanceOf(ConnectedSandbox);
    expect(sb.data).toMatchObject({ name: 'sdk-fast', description: 'the seed flow', baseSandbox: 'host', provider: 'fake', status: 'RUNNING' });
    await sandbox.start(sb);
    expect(await sandbox.exec(sb, 'echo out; echo err >&2; exit 3')).toMatchObject({ stdout: 'out\n', stderr: 'err\n', exitCode: 3 });
    await sandbox.stop(sb);
    expect((await sandbox.get(client, sb.data.id))?.status).toBe('STOPPED');
    await sandbox.delete(sb);
    expect(await sandbox.get(client, sb.data.id)).toBeNull();
    await expect(sb.refresh()).rejects.toBeInstanceOf(SandboxNotFoundError);
  });

  it('describes the server: its providers and bases', async () => {
    const info = await pocketenv.describeServer(client);
    expect(info.providers).toEqual([{ name: 'fake', available: true }]);
    expect(info.bases).toEqual(['host']);
  });
});

describe('a running sandbox', () => {
  let sb: ConnectedSandbox;
  beforeAll(async () => {
    sb = await sandbox.create(sandbox.new(client, 'sdk-fast-run', 'host', 'fake'));
  });

  it('streams output as it is produced and takes stdin', async () => {
    let out = '';
    let err = '';
    const result = await sandbox.execStream(sb, 'read line; echo "got:$line"; echo oops >&2; exit 5', {
      stdin: 'hello\n',
      onStdout: (c) => (out += c.toString()),
      onStderr: (c) => (err += c.toString()),
    });
    expect(result).toEqual({ exitCode: 5, timedOut: false });
    expect(out).toBe('got:hello\n');
    expect(err).toBe('oops\n');
  });

  it('gives every command its variables and (sealed) secrets, a secret winning over a variable', async () => {
    await env.put(sb, 'MODE', 'from-variable');
    await env.put(sb, 'TOKEN', 'from-variable');
    await secrets.put(sb, 'TOKEN', 'from-secret');
    expect((await sb.exec('printf "%s %s" "$MODE" "$TOKEN"')).stdout).toBe('from-variable from-secret');
    expect((await secrets.list(sb)).secrets.map((s) => s.name)).toEqual(['TOKEN']);
    expect(JSON.stringify(await secrets.list(sb))).not.toContain('from-secret');
  });

  it('writes attached files into the sandbox', async () => {
    await files.write(sb, '/workspace/config/app.json', '{"fast":true}');
    expect((await sb.exec('cat config/app.json')).stdout).toBe('{"fast":true}');
  });
});

describe('errors a caller can catch', () => {
  it('InvalidRequestError for input the server refuses, with its message', async () => {
    const err = await sandbox.create(sandbox.new(client, 'sdk-bad-base', 'no-such-base', 'fake')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidRequestError);
    expect((err as Error).message).toMatch(/unknown base "no-such-base"/);
  });

  it('ConflictError for a taken name, SandboxNotFoundError for someone else’s sandbox', async () => {
    const sb = await sandbox.create(sandbox.new(client, 'sdk-fast-mine', 'host', 'fake'));
    await expect(sandbox.create(sandbox.new(client, 'sdk-fast-mine', 'host', 'fake'))).rejects.toBeInstanceOf(ConflictError);
    expect(await sandbox.get(other, sb.data.id)).toBeNull();
    await expect(sandbox.exec(sandbox.connect(sb.data, other), 'echo pwned')).rejects.toBeInstanceOf(SandboxNotFoundError);
  });

  it('AuthenticationError for a bad token', async () => {
    const stranger = pocketenv.newClient('not-a-token', { baseUrl: server.url });
    await expect(sandbox.list(stranger)).rejects.toBeInstanceOf(AuthenticationError);
  });
});
