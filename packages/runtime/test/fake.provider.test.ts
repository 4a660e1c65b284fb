/**
 * What the fake provider does beyond the shared suite, and what it honestly refuses: volumes as
 * links (read-write only), commands that get the sandbox's environment and nothing of the
 * server's, working directories that cannot lead out of the tree, stop reaching processes that
 * left their session, and a new provider cleaning up after an old one.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeProvider } from '../src/fake/index';
import { PathEscapeError, ProviderError, UnsupportedCapabilityError } from '../src/provider/errors';
import type { CreateSpec } from '../src/provider/types';

let work: string;
let provider: FakeProvider;
let counter = 0;

const spec = (id: string): CreateSpec => ({ id, hostname: `box-${id}`, base: 'host', resources: { vcpus: 1, memoryGiB: 1, diskGiB: 1, pids: 64 } });
async function running(): Promise<string> {
  const id = `fk${process.pid}x${counter++}`;
  await provider.create(spec(id));
  await provider.start(id);
  return id;
}
async function sh(id: string, command: string): Promise<string> {
  const r = await provider.exec(id, command);
  expect(r.exitCode, r.stderr.toString()).toBe(0);
  return r.stdout.toString();
}
/** Host processes whose arguments are exactly `args`. */
const count = (args: string) => Number(execFileSync('sh', ['-c', `ps -eo args= | grep -cxF -- '${args}' || true`]).toString().trim());
/** Waits (up to 10 s) until `count(args)` is `n`: a process started in the background takes its arguments when it execs. */
async function expectCount(args: string, n: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (count(args) !== n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(count(args)).toBe(n);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'pe-fake-'));
  provider = new FakeProvider({ stateDir: join(work, 'state') });
});

afterAll(async () => {
  for (const s of await provider.list()) await provider.delete(s.id);
  await rm(work, { recursive: true, force: true });
});

describe('what it declares', () => {
  it('has no network and no resource limits, and says so', async () => {
    expect(provider.capabilities.has('network')).toBe(false);
    expect(provider.capabilities.has('limits')).toBe(false);
    const id = await running();
    expect((await provider.observe(id)).address).toBeUndefined();
    const [base] = await provider.listBases();
    expect(base!.description).toMatch(/no isolation/);
  });
});

describe('volumes', () => {
  it('read-write: data lands in the host dir, reachable from the tree and the API, across stop and start; kept after delete', async () => {
    const data = join(work, 'vol-rw');
    await mkdir(data);
    await writeFile(join(data, 'from-host.txt'), 'hello from host');
    const id = `fk${process.pid}vol`;
    await provider.create(spec(id));
    await provider.start(id, { volumes: [{ hostPath: data, path: '/data' }] });
    expect(await sh(id, 'cat ../data/from-host.txt')).toBe('hello from host');
    await sh(id, 'echo written-inside > ../data/inside.txt');
    expect(await readFile(join(data, 'inside.txt'), 'utf8')).toBe('written-inside\n');
    await provider.writeFiles(id, [{ path: '/data/deep/via-api.txt', content: Buffer.from('api') }]);
    expect(await readFile(join(data, 'deep', 'via-api.txt'), 'utf8')).toBe('api');
    expect((await provider.readFile(id, '/data/from-host.txt')).toString()).toBe('hello from host');
    await provider.stop(id);
    await provider.start(id);
    expect(await sh(id, 'cat ../data/inside.txt')).toBe('written-inside\n');
    await provider.delete(id);
    expect(await readFile(join(data, 'inside.txt'), 'utf8')).toBe('written-inside\n');
  });

  it('refuses what a link cannot do honestly, and the sandbox stays stopped', async () => {
    const data = join(work, 'vol-refused');
    await mkdir(data, { recursive: true });
    const id = `fk${process.pid}ro`;
    await provider.create(spec(id));
    const readOnly = await provider.start(id, { volumes: [{ hostPath: data, path: '/ro', readOnly: true }] }).catch((e: unknown) => e);
    expect(readOnly).toBeInstanceOf(UnsupportedCapabilityError);
    expect((readOnly as UnsupportedCapabilityError).capability).toBe('volumes');
    expect((readOnly as Error).message).toMatch(/read-only/);
    const nested = await provider.start(id, { volumes: [{ hostPath: data, path: '/a' }, { hostPath: data, path: '/a/b' }] }).catch((e: unknown) => e);
    expect(nested).toBeInstanceOf(UnsupportedCapabilityError);
    expect((await provider.observe(id)).state).toBe('stopped');

    await provider.start(id);
    await sh(id, 'mkdir -p ../busy && echo mine > ../busy/file');
    await provider.stop(id);
    const over = await provider.start(id, { volumes: [{ hostPath: data, path: '/busy' }] }).catch((e: unknown) => e);
    expect(over).toBeInstanceOf(UnsupportedCapabilityError);
    expect((over as Error).message).toMatch(/not an empty directory/);
    expect((await provider.observe(id)).state).toBe('stopped');
  });
});

describe('commands', () => {
  it('get the sandbox’s environment and nothing of the server’s', async () => {
    process.env.FAKE_SERVER_ONLY = 'server-secret';
    try {
      const id = await running();
      await provider.start(id, { env: { SANDBOX_VAR: 'sandbox' } });
      expect(await sh(id, 'printf "%s|%s|%s" "$SANDBOX_VAR" "${FAKE_SERVER_ONLY:-absent}" "$HOSTNAME"')).toBe(`sandbox|absent|box-${id}`);
    } finally {
      delete process.env.FAKE_SERVER_ONLY;
    }
  });

  it('cannot be pointed at a working directory outside the tree through a symlink', async () => {
    const id = await running();
    await sh(id, `ln -s ${work} escape`);
    await expect(provider.exec(id, 'pwd', { cwd: '/workspace/escape' })).rejects.toBeInstanceOf(PathEscapeError);
    const missing = await provider.exec(id, 'pwd', { cwd: '/no/such/dir' });
    expect(missing.exitCode).toBe(126);
    expect(missing.stderr.toString()).toBe('pocketenv: cannot enter /no/such/dir\n');
  });

  it('are killed when they write endlessly beyond the output cap, with a note saying why', async () => {
    const id = await running();
    const r = await provider.exec(id, 'yes', { timeoutMs: 60_000 });
    expect(r).toMatchObject({ truncated: true, timedOut: false });
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout.length).toBe(1024 * 1024);
    expect(r.stderr.toString()).toContain('it wrote more than 64 MiB beyond the output cap');
  });

  it('stream with flow control: paused output is not read (the command waits) until resumed', async () => {
    const id = await running();
    const total = 16 * 1024 * 1024;
    let got = 0;
    const proc = await provider.execStream(id, `head -c ${total} /dev/zero`, { onStdout: (c) => (got += c.length) });
    (proc as unknown as { pause(): void }).pause();
    await new Promise((r) => setTimeout(r, 500));
    const paused = got;
    await new Promise((r) => setTimeout(r, 500));
    expect(got).toBe(paused);
    expect(got).toBeLessThan(total);
    (proc as unknown as { resume(): void }).resume();
    expect(await proc.wait()).toEqual({ exitCode: 0, timedOut: false });
    expect(got).toBe(total);
  });

  it('take streamed stdin as it is written, each write settling once the pipe took it', async () => {
    const id = await running();
    let out = '';
    const proc = await provider.execStream(id, 'cat', { onStdout: (c) => (out += c.toString()) });
    await proc.writeStdin('first ');
    await proc.writeStdin(Buffer.from('second'));
    proc.closeStdin();
    expect(await proc.wait()).toEqual({ exitCode: 0, timedOut: false });
    expect(out).toBe('first second');
  });

  it('are all ended by stop, even one that left the session', async () => {
    const id = await running();
    const args = `sleep 3011.${process.pid}`;
    await sh(id, `setsid ${args} >/dev/null 2>&1 < /dev/null & nohup ${args} >/dev/null 2>&1 &`);
    await expectCount(args, 2);
    await provider.stop(id);
    expect(count(args)).toBe(0);
  });
});

describe('a new provider on the same state dir', () => {
  it('starts empty: it ends what the old one left running and removes its trees', async () => {
    const stateDir = join(work, 'handover');
    const old = new FakeProvider({ stateDir });
    await old.create(spec('handover1'));
    await old.start('handover1');
    const args = `sleep 3012.${process.pid}`;
    await old.exec('handover1', `nohup ${args} >/dev/null 2>&1 &`);
    await expectCount(args, 1);

    const next = new FakeProvider({ stateDir });
    expect(await next.list()).toEqual([]);
    expect(count(args)).toBe(0);
    expect((await next.observe('handover1')).state).toBe('missing');
    await expect(next.exec('handover1', 'true')).rejects.toBeInstanceOf(ProviderError);
  });
});
