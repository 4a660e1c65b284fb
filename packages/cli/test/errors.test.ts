import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pocketenv, sandbox } from '@pocketenv/sdk';
import { startTestServer } from '@pocketenv/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli';

// Failures a user meets, as exit codes and one-line messages on stderr.
describe('pocketenv errors and exit codes', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let alice: Record<string, string>;
  let bob: Record<string, string>;
  let aliceBox: { id: string; name: string };
  let emptyDataDir: string;

  beforeAll(async () => {
    server = await startTestServer();
    const a = await server.createActor('alice');
    const b = await server.createActor('bob');
    alice = { POCKETENV_API_URL: server.url, POCKETENV_TOKEN: a.token };
    bob = { POCKETENV_API_URL: server.url, POCKETENV_TOKEN: b.token };
    const client = pocketenv.newClient(a.token, { baseUrl: server.url });
    aliceBox = (await sandbox.create(sandbox.new(client, 'alices-box', 'debian', 'local'))).data;
    emptyDataDir = await mkdtemp(join(tmpdir(), 'pocketenv-cli-notoken-'));
  });
  afterAll(async () => {
    await server?.close();
    if (emptyDataDir) await rm(emptyDataDir, { recursive: true, force: true });
  });

  it('exits 4 for a sandbox that does not exist', async () => {
    for (const args of [['start', 'ghost'], ['stop', 'ghost'], ['rm', 'ghost'], ['exec', 'ghost', 'true']]) {
      const result = await runCli(args, alice);
      expect(result.code, args.join(' ')).toBe(4);
      expect(result.stderr, args.join(' ')).toMatch(/^error: no such sandbox: ghost\n/);
      expect(result.stdout, args.join(' ')).toBe('');
    }
  });

  it('keeps going through several sandboxes, then exits with the failure', async () => {
    expect((await runCli(['create', 'doomed'], alice)).code).toBe(0);
    const result = await runCli(['rm', 'ghost', 'doomed'], alice);
    expect(result.code).toBe(4);
    expect(result.stdout).toBe('Deleted doomed\n');
    expect(result.stderr).toContain('no such sandbox: ghost');
  });

  it('shows a second actor nothing of the first one’s sandboxes (exit 4 on each command)', async () => {
    const listed = await runCli(['ls', '--json'], bob);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([]);
    for (const ref of [aliceBox.name, aliceBox.id]) {
      for (const args of [['start', ref], ['stop', ref], ['rm', ref], ['exec', ref, 'echo pwned']]) {
        const result = await runCli(args, bob);
        expect(result.code, args.join(' ')).toBe(4);
        expect(result.stderr).toContain(`no such sandbox: ${ref}`);
      }
    }
    const still = await runCli(['ls', '--json'], alice);
    expect(JSON.parse(still.stdout).map((s: { name: string }) => s.name)).toContain('alices-box');
  });

  it('exits 3 without a token, saying how to get one', async () => {
    const result = await runCli(['ls'], { POCKETENV_API_URL: server.url, POCKETENV_DATA_DIR: emptyDataDir });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^error: not authenticated: /);
    expect(result.stderr).toContain('pocketenv token create');
  });

  it('exits 3 with a garbage token, from the environment or --token', async () => {
    const fromEnv = await runCli(['ls'], { POCKETENV_API_URL: server.url, POCKETENV_TOKEN: 'garbage' });
    expect(fromEnv.code).toBe(3);
    expect(fromEnv.stderr).toContain('not authenticated');
    const fromFlag = await runCli(['whoami', '--token', 'garbage'], alice);
    expect(fromFlag.code).toBe(3);
    const globalFlag = await runCli(['--token', 'garbage', 'ls'], alice);
    expect(globalFlag.code).toBe(3);
  });

  it('exits 2 for input the server rejects, naming the field', async () => {
    const cases: [string[], RegExp][] = [
      [['create', '--base', 'no-such-base'], /base.*debian|debian.*base/],
      [['create', '--provider', 'no-such-provider'], /provider.*local|local.*provider/],
      [['create', '--disk', '1'], /disk/],
      [['create', 'Not A Name!'], /name/],
    ];
    for (const [args, field] of cases) {
      const result = await runCli(args, alice);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(/^error: invalid request: /);
      expect(result.stderr, args.join(' ')).toMatch(field);
    }
  });

  it('exits 1 when the name is taken', async () => {
    const result = await runCli(['create', 'alices-box'], alice);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: conflict: .*alices-box/);
  });
});
