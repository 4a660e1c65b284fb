/**
 * The official CLI's terminal protocols (`@pocketenv/cli` 0.7.1 `console`, which picks one by
 * the sandbox's provider) against a real server and a real sandbox, each opened exactly as that
 * CLI opens it: the Cloudflare worker's `/v1/sandboxes/<id>/ws/terminal?t=…&session=…` on a
 * host named after the sandbox's base, `/pty` and `/tty` with the API token in the URL, and the
 * SSH-style `POST /ssh/connect` + `/ssh/<session>/ws`. For each: a typed command's output,
 * resize, and the shell's exit code; then everything that must be refused.
 */
import { randomUUID } from 'node:crypto';
import type { LookupFunction } from 'node:net';
import { startTestServer } from '@pocketenv/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Api, expectOk } from '../helpers';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;
type Protocol = 'cloudflare' | 'pty' | 'tty' | 'ssh';

const DEADLINE_MS = 30_000;

/** Every name resolves to loopback, as wildcard DNS (or `*.localhost` in a browser) would. */
const toLoopback = ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) =>
  options.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4)) as unknown as LookupFunction;

/** A terminal as the official CLI drives it: what it sends, and what it prints from what it gets. */
class CliTerminal {
  /** What the CLI would have written to stdout. */
  output = '';
  /** The kinds of frames that carried output (the hosted protocols differ here). */
  readonly outputFrames = new Set<'text' | 'binary'>();
  /** Cloudflare control messages, in order. */
  readonly controls: Array<{ type: string; code?: number; message?: string }> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly opened: Promise<void>;

  constructor(
    readonly protocol: Protocol,
    readonly ws: WebSocket,
  ) {
    ws.on('message', (data: Buffer, isBinary: boolean) => this.receive(data, isBinary));
    ws.on('error', () => undefined);
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused with HTTP ${res.statusCode}`)));
    });
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })));
  }

  private receive(data: Buffer, isBinary: boolean): void {
    if (this.protocol === 'cloudflare' && !isBinary) {
      this.controls.push(JSON.parse(data.toString('utf8')));
      return;
    }
    this.outputFrames.add(isBinary ? 'binary' : 'text');
    if (this.protocol === 'ssh' && !isBinary) this.output += Buffer.from(data.toString('utf8'), 'base64').toString('utf8');
    else this.output += data.toString('utf8');
  }

  /** Open and, where the protocol has one, `ready`: the CLI then sends its window size. */
  async attach(cols = 120, rows = 40): Promise<void> {
    await this.opened;
    if (this.protocol === 'cloudflare') await this.until('the ready message', () => this.controls.some((c) => c.type === 'ready'));
    this.resize(cols, rows);
  }

  type(text: string): void {
    // The Cloudflare CLI sends stdin as binary frames; the others as text.
    if (this.protocol === 'cloudflare') this.ws.send(Buffer.from(text, 'utf8'), { binary: true });
    else this.ws.send(text);
  }

  resize(cols: number, rows: number): void {
    this.ws.send(JSON.stringify({ type: 'resize', cols, rows }));
  }

  async screen(pattern: RegExp): Promise<void> {
    await this.until(`output matching ${pattern}`, () => pattern.test(this.output));
  }

  async until(what: string, check: () => boolean): Promise<void> {
    const deadline = Date.now() + DEADLINE_MS;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`${this.protocol}: never saw ${what}; output: ${JSON.stringify(this.output.slice(-400))}, controls: ${JSON.stringify(this.controls)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

describe('terminal protocols of the official CLI', () => {
  let server: TestServer;
  let alice: Api;
  let bob: Api;
  let sandbox: { id: string; name: string; baseSandbox: string };

  const wsBase = () => server.url.replace(/^http/, 'ws');
  const terminalToken = async (api: Api) => expectOk(await api.query('io.pocketenv.actor.getTerminalToken')).token as string;

  /** `POST <API URL>/ssh/connect` as the CLI sends it. */
  const sshConnect = (token: string | undefined, sandboxId: string, body: unknown = { cols: 120, rows: 40 }) =>
    fetch(new URL('/ssh/connect', server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sandbox-id': sandboxId, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    }).then(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, string> }));

  /**
   * The WebSocket each protocol's CLI code opens. For Cloudflare the URL is POCKETENV_CF_URL
   * (`http://sbx.localhost:<port>` here) with `sbx` replaced by the base, as the CLI does.
   */
  async function connect(protocol: Protocol, sandboxId: string, token: string, sessionId?: string): Promise<CliTerminal> {
    const headers = { 'user-agent': 'pocketenv-cli' };
    switch (protocol) {
      case 'cloudflare': {
        const cfUrl = `http://sbx.localhost:${new URL(server.url).port}`;
        const worker = cfUrl.replace('sbx', sandbox.baseSandbox).replace('claude-code', 'claudecode');
        const url = new URL(`${worker.replace(/^http/, 'ws')}/v1/sandboxes/${sandboxId}/ws/terminal`);
        url.searchParams.set('t', token);
        url.searchParams.set('session', randomUUID());
        return new CliTerminal(protocol, new WebSocket(url, { headers, lookup: toLoopback }));
      }
      case 'pty':
      case 'tty': {
        const url = new URL(`${wsBase()}/${protocol}/${sandboxId}/ws`);
        url.searchParams.set('token', token);
        return new CliTerminal(protocol, new WebSocket(url, { headers }));
      }
      case 'ssh': {
        let id = sessionId;
        if (!id) {
          const connected = await sshConnect(token, sandboxId);
          expect(connected.status).toBe(200);
          id = connected.body.sessionId!;
        }
        const url = new URL(`${wsBase()}/ssh/${id}/ws`);
        url.searchParams.set('token', token);
        return new CliTerminal(protocol, new WebSocket(url, { headers }));
      }
    }
  }

  /** The token the CLI puts in the URL: a terminal token for Cloudflare, its API token otherwise. */
  const cliToken = async (protocol: Protocol, api: Api) => (protocol === 'cloudflare' ? terminalToken(api) : api.token!);

  beforeAll(async () => {
    server = await startTestServer({ log: !!process.env.DEBUG_TTY });
    alice = new Api(server.url, (await server.createActor('alice')).token);
    bob = new Api(server.url, (await server.createActor('bob')).token);
    sandbox = await alice.create({ name: 'cli-terminals' });
    expect(sandbox.baseSandbox).toBe('debian');
  });
  afterAll(async () => {
    await server?.close();
  });

  for (const protocol of ['cloudflare', 'pty', 'tty', 'ssh'] as const) {
    it(`${protocol}: runs commands, resizes and reports the shell's exit`, async () => {
      const term = await connect(protocol, sandbox.id, await cliToken(protocol, alice));
      await term.attach(120, 40);
      term.type('echo $((6*7))\r');
      await term.screen(/[\r\n]42\r\n/);
      term.type('stty size\r');
      await term.screen(/[\r\n]40 120\r\n/);
      term.resize(101, 33);
      term.type('stty size\r');
      await term.screen(/[\r\n]33 101\r\n/);
      term.type('exit 3\r');
      const closed = await term.closed;
      if (protocol === 'cloudflare') {
        expect(term.controls).toEqual([{ type: 'ready' }, { type: 'exit', code: 3 }]);
        expect(term.outputFrames).toEqual(new Set(['binary']));
      } else {
        // What the hosted services send: text frames (raw for pty/tty, base64 for ssh).
        expect(term.outputFrames).toEqual(new Set(['text']));
      }
      expect(closed).toEqual({ code: 1000, reason: 'exit 3' });
    });
  }

  it('pty with an API token: a UTF-8 character split across reads arrives whole in the text frames', async () => {
    const term = await connect('pty', sandbox.id, alice.token!);
    await term.attach();
    term.type(`printf 'price: \\342\\202'; sleep 1; printf '\\254 ok\\n'\r`);
    await term.screen(/price: € ok\r\n/);
    term.type('exit\r');
    expect((await term.closed).code).toBe(1000);
  });

  it('our own clients keep binary frames on /pty (terminal token or bearer header)', async () => {
    for (const auth of ['token', 'bearer'] as const) {
      const url = new URL(`${wsBase()}/pty/${sandbox.id}/ws`);
      if (auth === 'token') url.searchParams.set('token', await terminalToken(alice));
      const term = new CliTerminal('pty', new WebSocket(url, { headers: auth === 'bearer' ? { authorization: `Bearer ${alice.token}` } : {} }));
      await term.attach();
      term.type('echo $((6*7))\r');
      await term.screen(/[\r\n]42\r\n/);
      term.type('exit 5\r');
      expect(await term.closed).toEqual({ code: 1000, reason: 'exit 5' });
      expect(term.outputFrames).toEqual(new Set(['binary']));
    }
  });

  it('every protocol has the same input frame limit (1 MiB): a larger frame closes the socket with 1009', async () => {
    for (const protocol of ['cloudflare', 'pty', 'tty', 'ssh'] as const) {
      const term = await connect(protocol, sandbox.id, await cliToken(protocol, alice));
      await term.attach();
      term.ws.send(Buffer.alloc(1024 * 1024 + 1, 0x61), { binary: protocol === 'cloudflare' });
      expect((await term.closed).code, protocol).toBe(1009);
    }
  });

  it("another actor's sandbox, or one that does not exist, is not found on every protocol", async () => {
    for (const target of [sandbox.id, sandbox.name, 'no-such-box']) {
      for (const protocol of ['cloudflare', 'pty', 'tty'] as const) {
        const term = await connect(protocol, target, await cliToken(protocol, target === 'no-such-box' ? alice : bob));
        const closed = await term.closed;
        expect(closed.code, `${protocol} ${target}`).toBe(4404);
        expect(closed.reason).toMatch(/^SandboxNotFound: /);
        if (protocol === 'cloudflare') expect(term.controls).toEqual([{ type: 'error', message: expect.stringMatching(/^SandboxNotFound: /) }]);
      }
      const refused = await sshConnect(target === 'no-such-box' ? alice.token : bob.token, target);
      expect(refused.status).toBe(404);
      expect(refused.body).toEqual({ error: 'NotFound', message: expect.stringContaining('not found') });
    }
  });

  it('bad, missing, revoked and expired tokens are refused (4401 / 401) on every protocol', async () => {
    const revoked = (await server.createActor('alice')).token;
    expect(await server.revokeToken(revoked)).toBe(true);
    const expired = (await server.createActor('alice', { ttlMs: 1 })).token;
    await new Promise((r) => setTimeout(r, 20));
    // A live session, so the socket's own token check is what refuses.
    const session = expectOk(await sshConnect(alice.token, sandbox.id)).sessionId!;
    for (const token of ['not-a-token', revoked, expired, 'ptt_forged']) {
      for (const protocol of ['cloudflare', 'pty', 'tty', 'ssh'] as const) {
        const term = await connect(protocol, sandbox.id, token, session);
        const closed = await term.closed;
        expect(closed.code, `${protocol} with ${token.slice(0, 12)}`).toBe(4401);
        expect(closed.reason).toMatch(/^AuthenticationRequired: /);
        if (protocol === 'cloudflare') expect(term.controls).toEqual([{ type: 'error', message: expect.stringMatching(/^AuthenticationRequired: /) }]);
      }
      const refused = await sshConnect(token, sandbox.id);
      expect(refused.status).toBe(401);
      expect(refused.body.error).toBe('AuthenticationRequired');
    }
    expect((await sshConnect(undefined, sandbox.id)).status).toBe(401);
    // The refusals did not spend the session: its owner still gets a terminal with it.
    const term = await connect('ssh', sandbox.id, alice.token!, session);
    await term.attach();
    term.type('exit 4\r');
    expect(await term.closed).toEqual({ code: 1000, reason: 'exit 4' });
  });

  it("an SSH session is used once, by its owner only, and another actor's attempt does not spend it", async () => {
    const { sessionId, expiresAt } = expectOk(await sshConnect(alice.token, sandbox.name));
    expect(sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 random bits
    expect(Date.parse(expiresAt!)).toBeGreaterThan(Date.now());

    const stolen = await connect('ssh', sandbox.id, bob.token!, sessionId);
    expect((await stolen.closed).code).toBe(4404);

    const first = await connect('ssh', sandbox.id, alice.token!, sessionId);
    await first.attach();
    first.type('echo $((6*7))\r');
    await first.screen(/[\r\n]42\r\n/);
    first.type('exit\r');
    expect((await first.closed).code).toBe(1000);

    const reused = await connect('ssh', sandbox.id, alice.token!, sessionId);
    const closed = await reused.closed;
    expect(closed.code).toBe(4404);
    expect(closed.reason).toMatch(/^NotFound: no such SSH session/);
    expect((await (await connect('ssh', sandbox.id, alice.token!, 'made-up-session')).closed).code).toBe(4404);
  });

  it('an unused SSH session can be dropped by its owner (the CLI calls /ssh/disconnect when it leaves)', async () => {
    const { sessionId } = expectOk(await sshConnect(alice.token, sandbox.id));
    const disconnect = (token: string) =>
      fetch(new URL(`/ssh/disconnect/${sessionId}`, server.url), { method: 'DELETE', headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
    expect(await disconnect(bob.token!)).toBe(404);
    expect(await disconnect(alice.token!)).toBe(200);
    expect(await disconnect(alice.token!)).toBe(404);
    expect((await (await connect('ssh', sandbox.id, alice.token!, sessionId)).closed).code).toBe(4404);
  });

  it('/ssh/connect checks its input: a stopped sandbox, a missing X-Sandbox-Id, a bad size', async () => {
    const stopped = await alice.create({ name: 'cli-terminals-stopped' });
    await alice.stop(stopped.id);
    const refused = await sshConnect(alice.token, stopped.id);
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({ error: 'InvalidRequest', message: expect.stringMatching(/is STOPPED, not RUNNING; start it first/) });
    // A stopped sandbox is refused on the sockets too (4400), with the error frame where there is one.
    const cf = await connect('cloudflare', stopped.id, await terminalToken(alice));
    expect((await cf.closed).code).toBe(4400);
    expect(cf.controls).toEqual([{ type: 'error', message: expect.stringMatching(/STOPPED, not RUNNING/) }]);

    expect((await sshConnect(alice.token, '')).status).toBe(400);
    const badSize = await sshConnect(alice.token, sandbox.id, { cols: 'wide', rows: 0 });
    expect(badSize.status).toBe(400);
    expect(badSize.body.message).toMatch(/^cols: must be an integer from 1 to 10000/);
  });
});
