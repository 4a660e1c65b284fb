/**
 * The CLI users run is the compiled one: `pocketenv` (bin/pocketenv.js) loads each package's dist
 * JavaScript, never TypeScript sources or tsx, for --version and for real commands against a
 * server. Every module the CLI process resolves is recorded (fixtures/record-modules.mjs).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer } from '@pocketenv/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli';

const RECORDER = fileURLToPath(new URL('./fixtures/record-modules.mjs', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/pocketenv.js', import.meta.url));

describe('the compiled CLI', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let env: Record<string, string>;
  let dir: string;
  let runs = 0;

  /** Runs the CLI and returns its result and the file:// modules it loaded (the recorder's own left out). */
  const traced = async (...args: string[]) => {
    const file = join(dir, `modules-${runs++}.txt`);
    const result = await runCli(args, { ...env, NODE_OPTIONS: `--import=${RECORDER}`, RECORD_MODULES_FILE: file });
    const urls = (await readFile(file, 'utf8').catch(() => '')).split('\n').filter((u) => u.startsWith('file:') && !u.includes('/test/fixtures/'));
    return { ...result, modules: urls.map((u) => fileURLToPath(u)) };
  };
  const expectCompiledOnly = (modules: string[]) => {
    expect(modules.filter((m) => /\.[cm]?ts$/.test(m) || m.includes('/tsx/') || m.includes('/src/'))).toEqual([]);
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pocketenv-cli-built-'));
    server = await startTestServer();
    env = { POCKETENV_API_URL: server.url, POCKETENV_TOKEN: (await server.createActor('alice')).token };
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers --version from the bin alone', async () => {
    const { code, stdout, modules } = await traced('--version');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect(modules).toEqual([BIN]);
  });

  it('runs ls and bases against a server through the dist files, with no TypeScript or tsx loaded', async () => {
    const ls = await traced('ls');
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(/^NAME\s+BASE\s+PROVIDER\s+RUNS ON\s+STATUS\s+CREATED AT\n$/);
    expect(ls.modules).toContain(join(fileURLToPath(new URL('../dist/', import.meta.url)), 'index.js'));
    expect(ls.modules.some((m) => m.endsWith('/packages/sdk/dist/index.js'))).toBe(true);
    expectCompiledOnly(ls.modules);

    const bases = await traced('bases');
    expect(bases.code).toBe(0);
    expect(bases.stdout).toMatch(/^debian\s+ready\s+base\s+Debian/m);
    // A table: every line's second column starts where the header's does.
    const lines = bases.stdout.trimEnd().split('\n');
    const statusAt = lines[0]!.indexOf('STATUS');
    for (const line of lines.slice(1)) expect(line.slice(statusAt - 3, statusAt), line).toBe('   ');
    for (const line of lines.slice(1)) expect(line[statusAt], line).not.toBe(' ');
    expectCompiledOnly(bases.modules);
  });
});
