/**
 * `pocketenv console` driven the way a person uses it: inside a real terminal (a node-pty PTY
 * running a shell that runs the CLI), typing and reading the screen. Proves typed commands and
 * their output, the sandbox's variables, window resize, Ctrl+C reaching the remote command,
 * the shell's exit code becoming pocketenv's, and the local terminal settings being restored.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { env as variables, pocketenv, sandbox, type ConnectedSandbox } from '@pocketenv/sdk';
import { startTestServer } from '@pocketenv/server/testing';
import { spawn as spawnPty, type IPty } from 'node-pty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli';

const BIN = fileURLToPath(new URL('../bin/pocketenv.js', import.meta.url));

/** A terminal window: what the program printed so far, and a keyboard. */
class Screen {
  text = '';
  readonly exited: Promise<number>;
  constructor(readonly pty: IPty) {
    pty.onData((d) => (this.text += d));
    this.exited = new Promise((resolve) => pty.onExit(({ exitCode }) => resolve(exitCode)));
  }
  type(keys: string): void {
    this.pty.write(keys);
  }
  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.text)) {
      if (Date.now() > deadline) throw new Error(`the screen never showed ${pattern}; it shows: ${JSON.stringify(this.text.slice(-800))}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('pocketenv console', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let cliEnv: Record<string, string>;
  let box: ConnectedSandbox;
  let dir: string;

  beforeAll(async () => {
    server = await startTestServer();
    const alice = await server.createActor('alice');
    cliEnv = { POCKETENV_API_URL: server.url, POCKETENV_TOKEN: alice.token };
    const client = pocketenv.newClient(alice.token, { baseUrl: server.url });
    box = await sandbox.create(sandbox.new(client, 'console-box', 'debian', 'local'));
    await variables.put(box, 'MYVAR', 'from a variable');
    dir = await mkdtemp(join(tmpdir(), 'pocketenv-console-'));
  });
  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is a real remote terminal: output, variables, resize, Ctrl+C, exit code, terminal restored', async () => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('POCKETENV_')) env[k] = v;
    Object.assign(env, cliEnv, { TERM: 'xterm-256color' });
    // A shell in a 100×30 window runs the console, then reports its exit code and the
    // window's settings, so we can check pocketenv put them back.
    const script = `stty -g > before; "${process.execPath}" "${BIN}" console console-box; echo "EXIT:$?"; stty -g > after`;
    const screen = new Screen(spawnPty('/bin/sh', ['-c', script], { name: 'xterm-256color', cols: 100, rows: 30, cwd: dir, env }));
    try {
      await screen.waitFor(/root@console-box:\/workspace# /);
      screen.type('echo "[$MYVAR]"; stty size\r');
      // (Node's raw mode keeps ONLCR, so a remote \r\n shows as \r\r\n: the same on screen.)
      await screen.waitFor(/\[from a variable\]\r+\n30 100\r+\n/);

      // The window grows: pocketenv gets SIGWINCH and the remote terminal follows.
      screen.pty.resize(120, 40);
      await eventually('the remote terminal to be 40×120', async () => {
        screen.type('stty size\r');
        return screen
          .waitFor(/[\r\n]40 120\r+\n/, 2000)
          .then(() => true)
          .catch(() => false);
      });

      // Ctrl+C interrupts the remote command, not pocketenv.
      screen.type('sleep 100\r');
      await eventually('sleep to run in the sandbox', async () => (await sandbox.exec(box, 'pgrep -fx "sleep 100"')).exitCode === 0);
      screen.type('\x03');
      screen.type('echo "after-$((6*7))"\r');
      await screen.waitFor(/after-42/);

      screen.type('exit 3\r');
      await screen.waitFor(/EXIT:3/);
      expect(await screen.exited).toBe(0);
      expect(await readFile(join(dir, 'after'), 'utf8')).toBe(await readFile(join(dir, 'before'), 'utf8'));
    } finally {
      screen.pty.kill('SIGKILL');
    }
  });

  it('says so when the sandbox does not exist', async () => {
    const result = await runCli(['console', 'no-such-box'], cliEnv);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('no such sandbox: no-such-box');
  });
});
