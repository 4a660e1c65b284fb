import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pocketenv } from '@pocketenv/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli } from './run-cli';

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
