/**
 * The terminal: getTerminalToken and the /pty/<sandbox>/ws WebSocket, against a real server and
 * real sandboxes. Proves what a user of `pocketenv console` (or the web terminal) relies on: a
 * real TTY with the sandbox's variables and secrets, typed commands and their output, resize,
 * Ctrl+C, the shell's exit code, hang-up on close, and that nobody else gets in.
 */
import sodium from 'libsodium-wrappers';
import { startTestServer } from '@pocketenv/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Api, expectOk, waitFor } from './helpers';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

interface Closed {
  code: number;
  reason: string;
}

/** A terminal client as a browser or the CLI would be: bytes out, bytes in, the close code at the end. */
class TerminalClient {
  output = '';
  readonly closed: Promise<Closed>;
  readonly opened: Promise<void>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => (this.output += data.toString('utf8')));
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })));
  }

  static open(server: TestServer, sandbox: string, auth: { token?: string; bearer?: string }, query = ''): TerminalClient {
    const url = new URL(`/pty/${encodeURIComponent(sandbox)}/ws`, server.url.replace(/^http/, 'ws'));
    if (auth.token) url.searchParams.set('token', auth.token);
    for (const [k, v] of new URLSearchParams(query)) url.searchParams.set(k, v);
    const headers = auth.bearer ? { authorization: `Bearer ${auth.bearer}` } : undefined;
    return new TerminalClient(new WebSocket(url, { headers }));
  }

  type(text: string): void {
    this.ws.send(Buffer.from(text, 'utf8'), { binary: true });
  }

  resize(cols: number, rows: number): void {
    this.ws.send(JSON.stringify({ type: 'resize', cols, rows }));
  }

  /** Waits until the terminal has printed something matching `pattern` (or fails with what it did print). */
  async screen(pattern: RegExp, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output)) {
      if (Date.now() > deadline) throw new Error(`terminal output never matched ${pattern}; it was: ${JSON.stringify(this.output.slice(-600))}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

async function sealTo(publicKeyHex: string, value: string): Promise<string> {
  await sodium.ready;
  const sealed = sodium.crypto_box_seal(sodium.from_string(value), sodium.from_hex(publicKeyHex));
  return sodium.to_base64(sealed, sodium.base64_variants.URLSAFE_NO_PADDING);
}

describe('terminal', () => {
  let server: TestServer;
  let alice: Api;
  let bob: Api;
  let sandbox: { id: string; name: string };

  const terminalToken = async (api: Api) => expectOk(await api.query('io.pocketenv.actor.getTerminalToken')).token as string;

  beforeAll(async () => {
    server = await startTestServer({ log: !!process.env.DEBUG_TTY });
    alice = new Api(server.url, (await server.createActor('alice')).token);
    bob = new Api(server.url, (await server.createActor('bob')).token);
    sandbox = await alice.create({ name: 'tty-box' });
    const publicKey = expectOk(await alice.query('io.pocketenv.server.describeServer')).publicKey as string;
    expectOk(await alice.procedure('io.pocketenv.variable.addVariable', undefined, { variable: { sandboxId: sandbox.id, name: 'MYVAR', value: 'hello from a variable' } }));
    const secret = await sealTo(publicKey, 's3cret value');
    expectOk(await alice.procedure('io.pocketenv.secret.addSecret', undefined, { secret: { sandboxId: sandbox.id, name: 'MYSECRET', value: secret } }));
  });
  afterAll(async () => {
    await server?.close();
  });

  it('getTerminalToken gives a short-lived token to an authenticated caller only', async () => {
    const before = Date.now();
    const reply = expectOk(await alice.query('io.pocketenv.actor.getTerminalToken'));
    expect(reply.token).toMatch(/^ptt_[A-Za-z0-9_-]{43}$/);
    const expires = Date.parse(reply.expiresAt);
    expect(expires).toBeGreaterThan(before);
    expect(expires).toBeLessThanOrEqual(Date.now() + 60_000);
    expect((await alice.as(undefined).query('io.pocketenv.actor.getTerminalToken')).status).toBe(401);
    // A terminal token is not a bearer token.
    expect((await alice.as(reply.token).query('io.pocketenv.actor.getProfile')).status).toBe(401);
  });

  it('runs a login shell on a real TTY with the sandbox variables and secrets, and closes with its exit code', async () => {
    const term = TerminalClient.open(server, sandbox.name, { token: await terminalToken(alice) }, 'cols=100&rows=30');
    await term.opened;
    term.type('echo "[$MYVAR][$MYSECRET]"; tty; stty size; pwd\r');
    await term.screen(/\[hello from a variable\]\[s3cret value\]\r\n\/dev\/pts\/\d+\r\n30 100\r\n\/workspace\r\n/);
    term.type('exit 3\r');
    expect(await term.closed).toEqual({ code: 1000, reason: 'exit 3' });
  });

  it('resizes the TTY and delivers Ctrl+C to the foreground command', async () => {
    const term = TerminalClient.open(server, sandbox.id, { token: await terminalToken(alice) });
    await term.opened;
    term.type('stty size\r');
    await term.screen(/[\r\n]24 80\r\n/);
    term.resize(132, 43);
    term.type('stty size\r');
    await term.screen(/[\r\n]43 132\r\n/);
    term.type('sleep 3001; echo "slept $?"\r');
    await waitFor('sleep 3001 to run', async () => (await alice.exec(sandbox.id, 'pgrep -fx "sleep 3001"')).exitCode === 0 || undefined);
    term.type('\x03');
    // The shell survives the interrupt (only the foreground job got SIGINT) and keeps working.
    term.type('echo "after-$((6*7))"\r');
    await term.screen(/after-42/);
    expect((await alice.exec(sandbox.id, 'pgrep -fx "sleep 3001"')).exitCode).toBe(1);
    term.ws.close();
    expect((await term.closed).code).toBe(1005);
  });

  it('closing the socket ends the shell and what runs in it', async () => {
    const term = TerminalClient.open(server, sandbox.id, { bearer: alice.token });
    await term.opened;
    term.type('sleep 3002\r');
    await waitFor('sleep 3002 to run', async () => (await alice.exec(sandbox.id, 'pgrep -fx "sleep 3002"')).exitCode === 0 || undefined);
    term.ws.close();
    await term.closed;
    await waitFor('the shell to end', async () => (await alice.exec(sandbox.id, 'pgrep -fx "sleep 3002"')).exitCode === 1 || undefined, 20_000);
    // The sandbox itself is fine.
    expect((await alice.exec(sandbox.id, 'echo ok')).stdout).toBe('ok\n');
  });

  it('a terminal token opens one terminal; missing or bad credentials are refused with 4401', async () => {
    const token = await terminalToken(alice);
    const first = TerminalClient.open(server, sandbox.id, { token });
    await first.opened;
    first.type('exit\r');
    expect((await first.closed).code).toBe(1000);

    const reused = await TerminalClient.open(server, sandbox.id, { token }).closed;
    expect(reused.code).toBe(4401);
    expect(reused.reason).toMatch(/^AuthenticationRequired: .*already used/);
    expect((await TerminalClient.open(server, sandbox.id, {}).closed).code).toBe(4401);
    expect((await TerminalClient.open(server, sandbox.id, { token: 'ptt_forged' }).closed).code).toBe(4401);
    expect((await TerminalClient.open(server, sandbox.id, { bearer: 'not-a-token' }).closed).code).toBe(4401);
  });

  it("someone else's sandbox is not found (4404), like a sandbox that does not exist", async () => {
    const byId = await TerminalClient.open(server, sandbox.id, { token: await terminalToken(bob) }).closed;
    expect(byId.code).toBe(4404);
    expect(byId.reason).toMatch(/^SandboxNotFound: /);
    expect((await TerminalClient.open(server, sandbox.name, { bearer: bob.token }).closed).code).toBe(4404);
    expect((await TerminalClient.open(server, 'no-such-box', { bearer: alice.token }).closed).code).toBe(4404);
  });

  it('a stopped sandbox is refused with 4400 saying so', async () => {
    const stopped = await alice.create({ name: 'tty-stopped' });
    await alice.stop(stopped.id);
    const closed = await TerminalClient.open(server, stopped.id, { bearer: alice.token }).closed;
    expect(closed.code).toBe(4400);
    expect(closed.reason).toMatch(/STOPPED, not RUNNING/);
  });
});
