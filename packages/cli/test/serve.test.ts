import { once } from 'node:events';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pocketenv } from '@pocketenv/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from './run-cli';

// `pocketenv serve` as a user runs it: it says where it listens, its owner token works, Ctrl+C stops it.
describe('pocketenv serve', () => {
  let dataDir: string;
  let child: ReturnType<typeof spawnCli> | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'pocketenv-cli-serve-'));
  });
  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'close');
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it('listens, serves its owner token, and shuts down on SIGINT', async () => {
    // The suite's setup step (`pocketenv setup`) has prepared the host already.
    child = spawnCli(['serve', '--port', '0', '--data-dir', dataDir, '--no-setup']);
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      child!.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const match = /^pocketenv: listening on (http:\/\/\S+)\n/.exec(stdout);
        if (match) resolve(match[1]!);
      });
      child!.once('close', (code) => reject(new Error(`serve exited (${code}) before listening:\n${stderr}`)));
    });

    const { token } = JSON.parse(await readFile(join(dataDir, 'token.json'), 'utf8')) as { token: string };
    const me = await pocketenv.getProfile(pocketenv.newClient(token, { baseUrl: url }));
    expect(me.did).toMatch(/^did:/);

    const closed = once(child, 'close');
    child.kill('SIGINT');
    const [code] = await closed;
    expect(code).toBe(0);
    expect(stdout).toBe(`pocketenv: listening on ${url}\n`); // exactly one line on stdout
    expect(stderr).toContain(`owner token in ${join(dataDir, 'token.json')}`);
    await expect(fetch(url)).rejects.toThrow();
  });
});

// A bad setting stops `serve` at once: exit 2, the variable named with what to use instead,
// and nothing written (no data dir, no database, no token.json).
describe('pocketenv serve with a bad setting', () => {
  let parent: string;

  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), 'pocketenv-cli-badconf-'));
  });
  afterAll(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  it.each([
    ['POCKETENV_COPY_TTL', '5x', /POCKETENV_COPY_TTL: "5x" is not a duration; use e\.g\. 30s, 15m, 2h or 7d/],
    ['POCKETENV_POOL_SIZE', 'lots', /POCKETENV_POOL_SIZE: "lots" is not a whole number between 0 and 500/],
    ['POCKETENV_STOP_ON_EXIT', 'maybe', /POCKETENV_STOP_ON_EXIT: "maybe" is not on or off/],
    ['POCKETENV_COPY_MAX_BYTES', '12 parsecs', /POCKETENV_COPY_MAX_BYTES: "12 parsecs" is not a size/],
    // Checked against the providers the server runs, still before the data dir is made.
    ['POCKETENV_PROVIDER_ALIASES', 'cloudflare=docker', /POCKETENV_PROVIDER_ALIASES: cloudflare=docker names provider "docker", which this server does not run/],
  ])('%s=%s exits 2 naming the variable, before writing anything', async (name, value, message) => {
    const dataDir = join(parent, name);
    // Local alone (no docker provider even where an engine answers): the alias case names a provider this server does not run.
    const result = await runCli(['serve', '--port', '0', '--data-dir', dataDir, '--no-setup'], { POCKETENV_DOCKER: 'off', [name]: value });
    expect(result.stderr).toMatch(message);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(await readdir(parent)).not.toContain(name);
  });
});
