/**
 * Builds still running on the server, as the CLI shows them: `pocketenv bases` gives each base's
 * status and progress; `create` of a base being built says so, waits, and creates the sandbox
 * once it is built; `vscode` before code-server is built says the server is building it and waits.
 * The server's provider is the real one with chosen bases held "building" by the test.
 */
import { once } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LocalProvider } from '@pocketenv/runtime';
import { startTestServer } from '@pocketenv/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatedProvider } from '../../server/test/support/gated-provider';
import { runCli, spawnCli } from './run-cli';

/** Resolves when `text` has appeared on the child's stderr. */
function stderrShows(child: ReturnType<typeof spawnCli>, text: string): Promise<string> {
  let seen = '';
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(text)) resolve(seen);
    });
    child.once('close', (code) => reject(new Error(`exited ${code} before saying ${JSON.stringify(text)}:\n${seen}`)));
  });
}

describe('the CLI while the server builds', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let provider: ReturnType<typeof gatedProvider>;
  let env: Record<string, string>;
  let dataDir: string;
  let toolsDir: string;
  const previousToolsDir = process.env.POCKETENV_TOOLS_DIR;

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-cli-builds-'));
    // No code-server here: `vscode` must start its build (which waits behind the gated bases).
    toolsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-cli-tools-'));
    process.env.POCKETENV_TOOLS_DIR = toolsDir;
    provider = gatedProvider(new LocalProvider({ stateDir: path.join(dataDir, 'runtime', 'local') }), ['node', 'claude']);
    server = await startTestServer({ dataDir, providers: [provider], prebuild: ['node', 'claude'] });
    env = { POCKETENV_API_URL: server.url, POCKETENV_TOKEN: server.ownerToken };
  });
  afterAll(async () => {
    await server?.close();
    process.env.POCKETENV_TOOLS_DIR = previousToolsDir;
    for (const dir of [dataDir, toolsDir]) await fs.rm(dir, { recursive: true, force: true });
  });

  it('bases shows what is building, with its progress, and what waits', async () => {
    const { code, stdout } = await runCli(['bases'], env);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^node\s+building 40 %, about .+ left\s+base\s/m);
    expect(stdout).toMatch(/^claude\s+queued, about .+ left\s+base\s/m);
    expect(stdout).toMatch(/^debian\s+ready\s+base\s/m);
    const json = JSON.parse((await runCli(['bases', '--json'], env)).stdout);
    expect(json.bases.find((b: { name: string }) => b.name === 'node')).toMatchObject({ status: 'building', progress: 40 });
  });

  it('create of a base being built says so, waits, then creates the sandbox', async () => {
    const child = spawnCli(['create', 'waits-for-node', '--base', 'node'], env);
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await stderrShows(child, 'base node is building 40 %');
    provider.gate('node').release();
    const [code] = await once(child, 'close');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Created sandbox waits-for-node \(sbx_\w+, RUNNING\)\n$/);
  });

  it('vscode before code-server is built says the server is building it, and waits', async () => {
    // Behind claude's (held) build, code-server's never starts in this test.
    const child = spawnCli(['vscode', 'waits-for-node'], env);
    const said = await stderrShows(child, 'Waiting for it');
    expect(said).toMatch(/VS Code needs code-server, which the server builds once per machine; queued, about .+ left\. Waiting for it/);
    expect(child.exitCode).toBe(null); // still waiting
    child.kill('SIGINT');
    await once(child, 'close');
  });
});
