import { startTestServer } from '@pocketenv/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasEscapes, runCli } from './run-cli';

// The seed flow and the listings, through `pocketenv` as a user runs it.
describe('pocketenv sandbox lifecycle', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let env: Record<string, string>;
  const cli = (...args: string[]) => runCli(args, env);
  const names = async (listing: 'ls' | 'ps') => {
    const { code, stdout } = await cli(listing, '--json');
    expect(code).toBe(0);
    return (JSON.parse(stdout) as { name: string }[]).map((s) => s.name);
  };

  beforeAll(async () => {
    server = await startTestServer();
    const alice = await server.createActor('alice');
    env = { POCKETENV_API_URL: server.url, POCKETENV_TOKEN: alice.token };
  });
  afterAll(async () => {
    await server?.close();
  });

  it('create → start → exec → stop → rm', async () => {
    const created = await cli('create', 'cli-flow', '--description', 'made by the CLI', '--json');
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'cli-flow', description: 'made by the CLI', baseSandbox: 'debian', provider: 'local' });

    const started = await cli('start', 'cli-flow');
    expect(started).toMatchObject({ code: 0, stdout: 'Started cli-flow\n' });
    expect(await names('ps')).toContain('cli-flow');

    const hello = await cli('exec', 'cli-flow', 'echo', 'hello');
    expect(hello).toMatchObject({ code: 0, stdout: 'hello\n', stderr: '' });

    const stopped = await cli('stop', 'cli-flow');
    expect(stopped).toMatchObject({ code: 0, stdout: 'Stopped cli-flow\n' });
    expect(await names('ps')).not.toContain('cli-flow');
    expect(await names('ls')).toContain('cli-flow');

    const notRunning = await cli('exec', 'cli-flow', 'true');
    expect(notRunning.code).toBe(1);
    expect(notRunning.stderr).toContain('not running');

    const removed = await cli('rm', 'cli-flow');
    expect(removed).toMatchObject({ code: 0, stdout: 'Deleted cli-flow\n' });
    expect(await names('ls')).not.toContain('cli-flow');
  });

  describe('with a running sandbox', () => {
    beforeAll(async () => {
      // A hosted provider name, as the official clients send: PROVIDER shows it, RUNS ON where it runs.
      expect((await cli('create', 'cli-exec', '--provider', 'cloudflare')).code).toBe(0);
      expect((await cli('start', 'cli-exec')).code).toBe(0);
    });

    it('passes stdout and stderr through unchanged and exits with the remote code', async () => {
      const result = await cli('exec', 'cli-exec', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3');
      expect(result).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
      const noNewline = await cli('exec', 'cli-exec', 'printf', '%s', 'a  b');
      expect(noNewline).toEqual({ code: 0, stdout: 'a  b', stderr: '' });
    });

    it('hands a single argument to the shell as written, and options after the sandbox to the command', async () => {
      expect((await cli('exec', 'cli-exec', 'echo one; echo two | tr a-z A-Z')).stdout).toBe('one\nTWO\n');
      expect((await cli('exec', 'cli-exec', 'ls', '-d', '/')).stdout).toBe('/\n');
    });

    it('prints a borderless table with the docker-like header', async () => {
      const { code, stdout } = await cli('ls');
      expect(code).toBe(0);
      const [header, ...rows] = stdout.trimEnd().split('\n');
      expect(header!.split(/\s{2,}/)).toEqual(['NAME', 'BASE', 'PROVIDER', 'RUNS ON', 'STATUS', 'CREATED AT']);
      const row = rows.find((r) => r.startsWith('cli-exec '));
      expect(row?.split(/\s{2,}/).slice(0, 5)).toEqual(['cli-exec', 'debian', 'cloudflare', 'local', 'RUNNING']);
      expect(stdout).not.toMatch(/[│┌─]/);

      const ps = await cli('ps');
      expect(ps.stdout).toMatch(/^cli-exec\s+debian\s+cloudflare\s+local\s+Up /m);
    });

    it('colours only when asked, and never with NO_COLOR', async () => {
      expect(hasEscapes((await cli('ls')).stdout)).toBe(false); // a pipe is not a terminal
      expect(hasEscapes((await runCli(['ls'], { ...env, FORCE_COLOR: '1' })).stdout)).toBe(true);
      expect(hasEscapes((await runCli(['ls'], { ...env, FORCE_COLOR: '1', NO_COLOR: '1' })).stdout)).toBe(false);
      const failed = await runCli(['start', 'nope'], { ...env, FORCE_COLOR: '1', NO_COLOR: '1' });
      expect(hasEscapes(failed.stderr)).toBe(false);
    });
  });

  it('whoami shows the handle and DID; token create makes a token that works', async () => {
    const me = await cli('whoami');
    expect(me.code).toBe(0);
    expect(me.stdout).toMatch(/^@alice \(did:[a-z]+:\S+\) on http:\/\/127\.0\.0\.1:\d+\n$/);

    const issued = await runCli(['token', 'create', '--handle', 'dave', '--data-dir', server.dataDir]);
    expect(issued.code).toBe(0);
    const token = issued.stdout.trim();
    expect(token).not.toBe('');
    expect(token).not.toContain('\n');

    const dave = await runCli(['whoami', '--json'], { POCKETENV_API_URL: server.url, POCKETENV_TOKEN: token });
    expect(dave.code).toBe(0);
    expect(JSON.parse(dave.stdout)).toMatchObject({ handle: 'dave' });
    expect(JSON.parse(dave.stdout).did).toMatch(/^did:/);
  });
});
