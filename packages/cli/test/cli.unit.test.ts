/**
 * The CLI in-process (`main(argv, io)`) against a server on the fake provider: no root, no
 * subprocess per command. What a user sees: output, exit codes, and the error line with its
 * hint. (bin.unit.test.ts runs the real binary as a process; the rest of packages/cli/test
 * runs it against the local provider.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '@pocketenv/server/testing';
import { runMain } from './support/run-main';

let server: TestServer;
let env: Record<string, string>;
const cli = (...args: string[]) => runMain(args, env);

beforeAll(async () => {
  server = await startTestServer({ providers: 'fake' });
  env = { POCKETENV_API_URL: server.url, POCKETENV_TOKEN: server.ownerToken, NO_COLOR: '1' };
});

afterAll(async () => {
  await server?.close();
});

describe('a sandbox from create to rm', () => {
  it('creates, lists, runs commands, stops and removes', async () => {
    const created = await cli('create', 'cli-fast', '--provider', 'fake', '--base', 'host', '--json');
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'cli-fast', provider: 'fake', baseSandbox: 'host', status: 'RUNNING' });

    const listed = await cli('ls');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^NAME\s+.*STATUS/m);
    expect(listed.stdout).toMatch(/^cli-fast\s.*RUNNING/m);

    const run = await cli('exec', 'cli-fast', '--', 'sh', '-c', 'echo out; echo err >&2; exit 7');
    expect(run).toEqual({ code: 7, stdout: 'out\n', stderr: 'err\n' });
    expect((await cli('exec', 'cli-fast', 'echo "a b" | wc -w')).stdout.trim()).toBe('2');

    expect((await cli('stop', 'cli-fast')).code).toBe(0);
    const running = JSON.parse((await cli('ps', '--json')).stdout) as Array<{ name: string }>;
    expect(running.map((s) => s.name)).not.toContain('cli-fast');
    const stopped = await cli('exec', 'cli-fast', 'true');
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toContain('sandbox cli-fast is not running (STOPPED)');
    expect(stopped.stderr).toContain('hint: start it with `pocketenv start cli-fast`');

    const rm = await cli('rm', 'cli-fast');
    expect(rm.code, rm.stderr).toBe(0);
    const all = JSON.parse((await cli('ls', '--json')).stdout) as Array<{ name: string }>;
    expect(all.map((s) => s.name)).not.toContain('cli-fast');
  });
});

describe('configuration reaches the commands', () => {
  beforeAll(async () => {
    expect((await cli('create', 'cli-env', '--provider', 'fake', '--base', 'host')).code).toBe(0);
  });

  it('env put / ls / rm: a variable is seen by the next exec, and gone after rm', async () => {
    expect((await cli('env', 'put', 'cli-env', 'GREETING', 'hello there')).code).toBe(0);
    expect((await cli('exec', 'cli-env', 'printf %s "$GREETING"')).stdout).toBe('hello there');
    const listed = await cli('env', 'ls', 'cli-env');
    expect(listed.stdout).toMatch(/GREETING\s+hello there/);
    expect((await cli('env', 'rm', 'cli-env', 'GREETING')).code).toBe(0);
    expect((await cli('exec', 'cli-env', 'printf %s "${GREETING:-unset}"')).stdout).toBe('unset');
  });

  it('secret put reads the value from piped stdin, never from the command line', async () => {
    const put = await runMain(['secret', 'put', 'cli-env', 'API_KEY'], env, 'sekret-value\n');
    expect(put.code, put.stderr).toBe(0);
    expect(put.stdout + put.stderr).not.toContain('sekret-value');
    expect((await cli('exec', 'cli-env', 'printf %s "$API_KEY"')).stdout).toBe('sekret-value');
    const empty = await runMain(['secret', 'put', 'cli-env', 'EMPTY'], env, '');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('no secret value given');
  });

  it('file put writes a file the sandbox can read', async () => {
    const put = await runMain(['file', 'put', 'cli-env', '/workspace/app.env'], env, 'MODE=fast\n');
    expect(put.code, put.stderr).toBe(0);
    expect((await cli('exec', 'cli-env', 'cat app.env')).stdout).toBe('MODE=fast\n');
  });
});

describe('errors become exit codes', () => {
  it('usage: unknown commands, bad option values, missing arguments (2)', async () => {
    for (const args of [['frobnicate'], ['create', '--vcpus', 'two'], ['exec']]) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^error: /m);
    }
  });

  it('invalid input the server refuses (400 → 2), naming what to change', async () => {
    const r = await cli('create', 'cli-bad', '--provider', 'local', '--base', 'host');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: invalid request: provider.*local.*; (available|accepted): fake/m);
    const base = await cli('create', 'cli-bad', '--provider', 'fake', '--base', 'debian');
    expect(base.code).toBe(2);
    expect(base.stderr).toMatch(/unknown base "debian".*available: host/);
  });

  it('authentication (3) with a hint on how to get a token', async () => {
    const r = await runMain(['ls'], { ...env, POCKETENV_TOKEN: 'not-a-token' });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('not authenticated');
    expect(r.stderr).toContain('hint: pass --token');
    expect((await cli('--token', 'still-not-a-token', 'ls')).code).toBe(3);
  });

  it('not found (4)', async () => {
    const r = await cli('exec', 'no-such-box', 'true');
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('no such sandbox: no-such-box');
  });

  it('a conflict or an unreachable server (1)', async () => {
    expect((await cli('create', 'cli-twice', '--provider', 'fake', '--base', 'host')).code).toBe(0);
    const again = await cli('create', 'cli-twice', '--provider', 'fake', '--base', 'host');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/conflict: .*cli-twice/);
    const away = await runMain(['ls'], { ...env, POCKETENV_API_URL: 'http://127.0.0.1:9' });
    expect(away.code).toBe(1);
    expect(away.stderr).toContain('hint: is the Pocketenv server running?');
  });

  it('--version and --help succeed (0)', async () => {
    expect((await cli('--version')).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    const help = await cli('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: pocketenv');
  });
});
