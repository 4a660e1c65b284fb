/**
 * The Provider conformance suite: one set of behaviour tests every provider runs
 * (`runProviderSuite` inside a vitest file). It talks to the provider only through
 * the Provider contract, so a pass means the server can rely on the contract.
 *
 * Tests have stable names (CONFORMANCE_TESTS) so a provider can skip one with a
 * reason; skips are printed loudly. Capability-specific tests run when the
 * provider declares the capability, and check UnsupportedCapabilityError when not.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PathEscapeError,
  ProviderError,
  SandboxMissingError,
  SandboxNotRunningError,
  UnknownBaseError,
  UnsupportedCapabilityError,
} from '../provider/errors';
import type { Capability, CreateSpec, IsolationLevel, Provider, Resources } from '../provider/types';

export interface GitRepoFixture {
  /** URL the provider's sandboxes can clone. */
  url: string;
  /** Files the repository holds at HEAD (path relative to the repo root → content). */
  files: Record<string, string>;
  /** A URL that cannot be cloned (for the error case). */
  badUrl: string;
  close(): Promise<void>;
}

export interface ProviderSuiteOptions {
  /** Shown in the describe block. */
  name: string;
  /** A provider ready to use; called once for the whole suite. */
  newProvider: () => Provider | Promise<Provider>;
  /** Base to create sandboxes from; default `debian`. */
  base?: string;
  resources?: Resources;
  /** Needed when the provider declares `repo`: a repository its sandboxes can reach. */
  gitRepo?: () => Promise<GitRepoFixture>;
  /** A host dir to use as a volume (`volumes`); default: a fresh dir under the OS temp dir. */
  volumeDir?: () => Promise<{ hostPath: string; cleanup(): Promise<void> }>;
  /** Tests not run, with why (printed). Names from CONFORMANCE_TESTS. */
  skip?: { reason: string; tests: string[] }[];
  /** Isolation level of every sandbox the suite creates; default the provider's (standard). */
  isolation?: IsolationLevel;
  /**
   * Whether `tty` inside a terminal names one of the sandbox's /dev/pts (default true). False for
   * runtimes that hand the caller's own PTY to the sandbox (gVisor): `tty` then says "not a tty".
   */
  terminalOnSandboxDevpts?: boolean;
}

export const CONFORMANCE_TESTS = [
  'describes itself: name, capabilities, probe, bases',
  'create is idempotent and leaves the sandbox stopped',
  'create refuses an unknown base with UnknownBaseError',
  'start runs the sandbox and start again keeps it running',
  'stop ends every process, keeps files, and is safe to repeat',
  'delete removes the sandbox and is safe to repeat',
  'concurrent lifecycle calls on one id settle consistently',
  'list and observe agree on what exists',
  'operations on a missing sandbox throw SandboxMissingError',
  'operations that need a running sandbox throw SandboxNotRunningError',
  'exec returns stdout, stderr and exit codes exactly',
  'exec passes binary stdin and closes it',
  'exec runs in /workspace with the sandbox env, and honours cwd and env',
  'exec bounds large output and flags truncation',
  'exec timeout kills the whole process tree',
  'exec abort signal ends the command',
  'execStream delivers output as produced, takes stdin, returns the exit code',
  'execStream kill and timeout end the process tree',
  'writeFiles and readFile round-trip binary content and modes',
  'writeFiles and readFile refuse path escapes with PathEscapeError',
  'writeFiles never follows a sandbox symlink out of the sandbox',
  'readFile of a missing file is a clear error',
  'volumes: data lands in the host dir and survives stop and start',
  'repo: start clones into /workspace, a failed clone is a clear error',
  'terminal: a login shell in a PTY with the sandbox env, resize, Ctrl+C and exit code',
  'undeclared capabilities throw UnsupportedCapabilityError',
] as const;

export type ConformanceTest = (typeof CONFORMANCE_TESTS)[number];

const DEFAULT_RESOURCES: Resources = { vcpus: 1, memoryGiB: 0.5, diskGiB: 2, pids: 256 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Expects `promise` to reject with an instance of `type` (and returns the error). */
async function rejectsWith<T extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => T): Promise<T> {
  let error: unknown;
  try {
    await promise;
  } catch (err) {
    error = err;
  }
  expect(error, `expected a ${type.name}`).toBeInstanceOf(type);
  return error as T;
}

export function runProviderSuite(opts: ProviderSuiteOptions): void {
  const base = opts.base ?? 'debian';
  const resources = opts.resources ?? DEFAULT_RESOURCES;
  const skipped = new Map<string, string>();
  for (const s of opts.skip ?? []) {
    for (const t of s.tests) {
      if (!(CONFORMANCE_TESTS as readonly string[]).includes(t)) throw new Error(`runProviderSuite: unknown test in skip list: ${t}`);
      skipped.set(t, s.reason);
    }
  }
  if (skipped.size > 0) {
    console.warn(
      `\n*** conformance ${opts.name}: SKIPPING ${skipped.size} test(s):\n${[...skipped].map(([t, r]) => `***   - ${t}: ${r}`).join('\n')}\n`,
    );
  }

  describe(`Provider conformance: ${opts.name}`, () => {
    let provider: Provider;
    const created = new Set<string>();
    const tag = randomBytes(3).toString('hex');
    let counter = 0;

    const newId = () => `cf${tag}${(counter++).toString(36)}`;
    const spec = (id: string, extra: Partial<CreateSpec> = {}): CreateSpec => ({
      id,
      hostname: `box-${id}`,
      base,
      resources,
      ...(opts.isolation ? { isolation: opts.isolation } : {}),
      ...extra,
    });
    const createSandbox = async (extra: Partial<CreateSpec> = {}) => {
      const id = newId();
      created.add(id);
      await provider.create(spec(id, extra));
      return id;
    };
    const has = (c: Capability) => provider.capabilities.has(c);
    const sh = async (id: string, command: string) => {
      const r = await provider.exec(id, command);
      expect(r.exitCode, `exec ${command}: ${r.stderr.toString()}`).toBe(0);
      return r.stdout.toString('utf8');
    };
    const test = (name: ConformanceTest, fn: () => Promise<void>) => {
      const reason = skipped.get(name);
      if (reason) it.skip(`${name} (skipped: ${reason})`, fn);
      else it(name, fn);
    };
    /** Counts processes whose command line is exactly `args` inside the sandbox. */
    const countProcs = async (id: string, args: string) =>
      Number((await sh(id, `ps -eo args= | grep -cxF -- '${args}' || true`)).trim());

    let shared = '';

    beforeAll(async () => {
      provider = await opts.newProvider();
      const probe = await provider.probe();
      if (!probe.available) throw new Error(`provider ${opts.name} is not available here: ${probe.reason}`);
      await provider.prepareBase(base);
      shared = await createSandbox();
      await provider.start(shared, { env: { SUITE_A: 'from-start', SUITE_B: 'start' } });
    });

    afterAll(async () => {
      for (const id of created) await provider?.delete(id).catch(() => undefined);
    });

    test('describes itself: name, capabilities, probe, bases', async () => {
      expect(provider.name).toMatch(/^[a-z][a-z0-9-]*$/);
      expect(provider.capabilities).toBeInstanceOf(Set);
      expect((await provider.probe()).available).toBe(true);
      const bases = await provider.listBases();
      const mine = bases.find((b) => b.name === base);
      expect(mine, `listBases() lacks ${base}`).toBeDefined();
      expect(mine!.ready).toBe(true);
      expect(typeof mine!.description).toBe('string');
    });

    test('create is idempotent and leaves the sandbox stopped', async () => {
      const id = await createSandbox();
      await provider.create(spec(id));
      expect((await provider.observe(id)).state).toBe('stopped');
      const listed = (await provider.list()).filter((s) => s.id === id);
      expect(listed).toHaveLength(1);
      expect(listed[0]!.state).toBe('stopped');
    });

    test('create refuses an unknown base with UnknownBaseError', async () => {
      const id = newId();
      created.add(id);
      await rejectsWith(provider.create(spec(id, { base: 'no-such-base-' + tag })), UnknownBaseError);
      expect((await provider.observe(id)).state).toBe('missing');
    });

    test('start runs the sandbox and start again keeps it running', async () => {
      const id = await createSandbox();
      await provider.start(id);
      expect((await provider.observe(id)).state).toBe('running');
      expect((await sh(id, 'echo ok')).trim()).toBe('ok');
      expect((await sh(id, 'hostname')).trim()).toBe(`box-${id}`);
      // A long-running process must survive a second start (it is not a restart).
      await sh(id, 'nohup sleep 3001 >/dev/null 2>&1 &');
      await provider.start(id);
      expect((await provider.observe(id)).state).toBe('running');
      expect(await countProcs(id, 'sleep 3001')).toBe(1);
    });

    test('stop ends every process, keeps files, and is safe to repeat', async () => {
      const id = await createSandbox();
      await provider.start(id);
      await sh(id, 'echo kept > /workspace/kept.txt && mkdir -p /root/deep && echo too > /root/deep/f');
      await sh(id, 'nohup sleep 3002 >/dev/null 2>&1 &');
      await provider.stop(id);
      expect((await provider.observe(id)).state).toBe('stopped');
      await provider.stop(id);
      expect((await provider.observe(id)).state).toBe('stopped');
      await provider.start(id);
      expect(await sh(id, 'cat /workspace/kept.txt /root/deep/f')).toBe('kept\ntoo\n');
      expect(await countProcs(id, 'sleep 3002')).toBe(0);
    });

    test('delete removes the sandbox and is safe to repeat', async () => {
      const running = await createSandbox();
      await provider.start(running);
      const stopped = await createSandbox();
      for (const id of [running, stopped]) {
        await provider.delete(id);
        expect((await provider.observe(id)).state).toBe('missing');
        expect((await provider.list()).some((s) => s.id === id)).toBe(false);
        await provider.delete(id);
      }
      await provider.delete(newId()); // never existed
      // The id can be used again from scratch: nothing of the old sandbox is left.
      created.add(running);
      await provider.create(spec(running));
      await provider.start(running);
      expect(await sh(running, 'ls -A /workspace | wc -l')).toBe('0\n');
    });

    test('concurrent lifecycle calls on one id settle consistently', async () => {
      const id = newId();
      created.add(id);
      await Promise.all([provider.create(spec(id)), provider.create(spec(id))]);
      await Promise.all([provider.start(id), provider.start(id)]);
      expect((await provider.observe(id)).state).toBe('running');
      expect((await sh(id, 'echo up')).trim()).toBe('up');
      await Promise.all([provider.stop(id), provider.stop(id)]);
      expect((await provider.observe(id)).state).toBe('stopped');
      await Promise.all([provider.delete(id), provider.delete(id)]);
      expect((await provider.observe(id)).state).toBe('missing');
    });

    test('list and observe agree on what exists', async () => {
      const running = await createSandbox();
      await provider.start(running);
      const stopped = await createSandbox();
      const list = await provider.list();
      const byId = new Map(list.map((s) => [s.id, s]));
      expect(byId.get(running)?.state).toBe('running');
      expect(byId.get(stopped)?.state).toBe('stopped');
      expect(list.every((s) => s.state !== 'missing')).toBe(true);
      for (const id of [running, stopped]) expect((await provider.observe(id)).state).toBe(byId.get(id)!.state);
      if (has('network')) {
        const address = (await provider.observe(running)).address;
        expect(address, 'a running sandbox of a network provider has an address').toBeTruthy();
        expect(byId.get(running)?.address).toBe(address);
        expect((await provider.observe(stopped)).address).toBeUndefined();
      }
      expect((await provider.observe(newId())).state).toBe('missing');
    });

    test('operations on a missing sandbox throw SandboxMissingError', async () => {
      const id = newId();
      await rejectsWith(provider.start(id), SandboxMissingError);
      await rejectsWith(provider.stop(id), SandboxMissingError);
      await rejectsWith(provider.exec(id, 'true'), SandboxMissingError);
      await rejectsWith(provider.execStream(id, 'true', {}), SandboxMissingError);
      await rejectsWith(provider.writeFiles(id, [{ path: '/workspace/x', content: Buffer.from('x') }]), SandboxMissingError);
      await rejectsWith(provider.readFile(id, '/etc/hostname'), SandboxMissingError);
    });

    test('operations that need a running sandbox throw SandboxNotRunningError', async () => {
      const id = await createSandbox();
      const err = await rejectsWith(provider.exec(id, 'true'), SandboxNotRunningError);
      expect(err.message).toContain(id);
      await rejectsWith(provider.execStream(id, 'true', {}), SandboxNotRunningError);
      await rejectsWith(provider.writeFiles(id, [{ path: '/workspace/x', content: Buffer.from('x') }]), SandboxNotRunningError);
      await rejectsWith(provider.readFile(id, '/etc/hostname'), SandboxNotRunningError);
      await provider.start(id);
      await provider.stop(id);
      await rejectsWith(provider.exec(id, 'true'), SandboxNotRunningError);
    });

    test('exec returns stdout, stderr and exit codes exactly', async () => {
      // Every byte value, on both streams, must come back unchanged and unmixed.
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const octal = [...all].map((b) => '\\' + b.toString(8).padStart(3, '0')).join('');
      const r = await provider.exec(shared, `printf '${octal}'; printf 'err\\000or' >&2; exit 42`);
      expect(r.stdout.equals(all)).toBe(true);
      expect(r.stderr.equals(Buffer.from('err\0or'))).toBe(true);
      expect(r.exitCode).toBe(42);
      expect(r.truncated).toBe(false);
      expect(r.timedOut).toBe(false);
      for (const code of [0, 1, 255]) expect((await provider.exec(shared, `exit ${code}`)).exitCode).toBe(code);
      expect((await provider.exec(shared, 'kill -9 $$')).exitCode).toBe(137);
      const missing = await provider.exec(shared, 'no-such-command-xyz');
      expect(missing.exitCode).toBe(127);
      expect(missing.stderr.toString()).toContain('not found');
    });

    test('exec passes binary stdin and closes it', async () => {
      const input = randomBytes(300 * 1024);
      const r = await provider.exec(shared, 'cat', { stdin: input });
      expect(r.exitCode).toBe(0);
      expect(r.stdout.equals(input)).toBe(true);
      // Without stdin, a reader sees EOF at once instead of hanging.
      const empty = await provider.exec(shared, 'wc -c', { timeoutMs: 20_000 });
      expect(empty.timedOut).toBe(false);
      expect(empty.stdout.toString().trim()).toBe('0');
      expect((await provider.exec(shared, 'cat', { stdin: 'text in' })).stdout.toString()).toBe('text in');
    });

    test('exec runs in /workspace with the sandbox env, and honours cwd and env', async () => {
      expect((await sh(shared, 'pwd')).trim()).toBe('/workspace');
      expect((await sh(shared, 'echo "$SUITE_A:$SUITE_B"')).trim()).toBe('from-start:start');
      const r = await provider.exec(shared, 'echo "$SUITE_A:$SUITE_B:$EXTRA"; pwd; command -v ls', { cwd: '/tmp', env: { SUITE_B: 'exec', EXTRA: 'x y' } });
      expect(r.stdout.toString().split('\n').slice(0, 2)).toEqual(['from-start:exec:x y', '/tmp']);
      expect(r.stdout.toString()).toMatch(/\/ls\n$/);
      expect((await sh(shared, 'echo $HOME; id -u')).trim()).toBe('/root\n0');
    });

    test('exec bounds large output and flags truncation', async () => {
      const r = await provider.exec(shared, 'head -c 3000000 /dev/zero; head -c 10 /dev/zero >&2', { maxOutputBytes: 100_000 });
      expect(r.exitCode).toBe(0);
      expect(r.stdout.length).toBe(100_000);
      expect(r.stderr.length).toBe(10);
      expect(r.truncated).toBe(true);
      const d = await provider.exec(shared, 'head -c 3000000 /dev/zero');
      expect(d.stdout.length).toBe(1024 * 1024);
      expect(d.truncated).toBe(true);
      const exact = await provider.exec(shared, 'head -c 4096 /dev/zero', { maxOutputBytes: 4096 });
      expect(exact.stdout.length).toBe(4096);
      expect(exact.truncated).toBe(false);
    });

    test('exec timeout kills the whole process tree', async () => {
      const r = await provider.exec(shared, 'sleep 3003 & (sleep 3003 &); sh -c "sleep 3003" & echo started; sleep 3003', { timeoutMs: 1500 });
      expect(r.timedOut).toBe(true);
      expect(r.exitCode).not.toBe(0);
      expect(r.stdout.toString()).toBe('started\n');
      expect(await countProcs(shared, 'sleep 3003')).toBe(0);
      const fast = await provider.exec(shared, 'echo quick', { timeoutMs: 60_000 });
      expect(fast.timedOut).toBe(false);
      expect(fast.stdout.toString()).toBe('quick\n');
    });

    test('exec abort signal ends the command', async () => {
      const ac = new AbortController();
      const pending = provider.exec(shared, 'sleep 3004 & sleep 3004', { signal: ac.signal });
      await sleep(700);
      ac.abort();
      const r = await pending;
      expect(r.exitCode).not.toBe(0);
      expect(r.timedOut).toBe(false);
      expect(await countProcs(shared, 'sleep 3004')).toBe(0);
    });

    test('execStream delivers output as produced, takes stdin, returns the exit code', async () => {
      let out = '';
      let err = '';
      let sawReady: () => void = () => undefined;
      const ready = new Promise<void>((r) => (sawReady = r));
      const proc = await provider.execStream(
        shared,
        'echo ready; read line; echo "got:$line"; echo oops >&2; exit 5',
        {
          onStdout: (c) => {
            out += c.toString();
            if (out.includes('ready')) sawReady();
          },
          onStderr: (c) => (err += c.toString()),
        },
        { cwd: '/tmp' },
      );
      // The first line arrives while the command still waits for stdin: real streaming.
      await ready;
      expect(out).toBe('ready\n');
      proc.writeStdin('hello\n');
      proc.closeStdin();
      const { exitCode, timedOut } = await proc.wait();
      expect(exitCode).toBe(5);
      expect(timedOut).toBe(false);
      expect(out).toBe('ready\ngot:hello\n');
      expect(err).toBe('oops\n');
    });

    test('execStream kill and timeout end the process tree', async () => {
      const killed = await provider.execStream(shared, 'sleep 3005 & sleep 3005', {});
      await sleep(500);
      killed.kill();
      const k = await killed.wait();
      expect(k.exitCode).not.toBe(0);
      expect(k.timedOut).toBe(false);
      const timed = await provider.execStream(shared, 'sleep 3005 & sleep 3005', {}, { timeoutMs: 1000 });
      const t = await timed.wait();
      expect(t.timedOut).toBe(true);
      expect(await countProcs(shared, 'sleep 3005')).toBe(0);
    });

    test('writeFiles and readFile round-trip binary content and modes', async () => {
      const content = randomBytes(200 * 1024);
      await provider.writeFiles(shared, [
        { path: '/workspace/rt/deep/data.bin', content },
        { path: '/workspace/rt/run.sh', content: Buffer.from('#!/bin/sh\necho ran\n'), mode: 0o755 },
        { path: '/tmp/rt-plain.txt', content: Buffer.from('plain') },
      ]);
      expect((await provider.readFile(shared, '/workspace/rt/deep/data.bin')).equals(content)).toBe(true);
      expect((await sh(shared, '/workspace/rt/run.sh')).trim()).toBe('ran');
      expect((await sh(shared, 'stat -c "%a %u" /workspace/rt/run.sh /tmp/rt-plain.txt')).trim()).toBe('755 0\n644 0');
      const sum = (await sh(shared, 'sha256sum /workspace/rt/deep/data.bin')).split(' ')[0];
      const { createHash } = await import('node:crypto');
      expect(sum).toBe(createHash('sha256').update(content).digest('hex'));
      // Overwrite replaces; a file written inside is readable from outside.
      await provider.writeFiles(shared, [{ path: '/tmp/rt-plain.txt', content: Buffer.from('v2') }]);
      expect((await provider.readFile(shared, '/tmp/rt-plain.txt')).toString()).toBe('v2');
      await sh(shared, 'printf "inside" > /workspace/rt/inside.txt');
      expect((await provider.readFile(shared, '/workspace/rt/inside.txt')).toString()).toBe('inside');
    });

    test('writeFiles and readFile refuse path escapes with PathEscapeError', async () => {
      for (const bad of ['etc/passwd', 'relative.txt', '../x', '/workspace/../../etc/x', '/workspace/a/../b', '', '/']) {
        await rejectsWith(provider.writeFiles(shared, [{ path: bad, content: Buffer.from('x') }]), PathEscapeError);
        await rejectsWith(provider.readFile(shared, bad), PathEscapeError);
      }
      // One bad path in a batch: nothing of the batch is written.
      await rejectsWith(
        provider.writeFiles(shared, [
          { path: '/workspace/batch-good.txt', content: Buffer.from('x') },
          { path: '../batch-bad.txt', content: Buffer.from('x') },
        ]),
        PathEscapeError,
      );
      expect(await sh(shared, 'test -e /workspace/batch-good.txt && echo yes || echo no')).toBe('no\n');
    });

    test('writeFiles never follows a sandbox symlink out of the sandbox', async () => {
      // A file on the machine running the suite, with content no sandbox has.
      const dir = await mkdtemp(join(tmpdir(), 'pe-conformance-'));
      const hostFile = join(dir, 'host-secret.txt');
      const secret = `host-only-${randomBytes(8).toString('hex')}`;
      await writeFile(hostFile, secret);
      try {
        await sh(shared, `mkdir -p /workspace/ln && ln -sfn ${hostFile} /workspace/ln/abs && ln -sfn ../../../../../../../..${hostFile} /workspace/ln/rel && ln -sfn ${dir} /workspace/ln/dir`);
        for (const path of ['/workspace/ln/abs', '/workspace/ln/rel', '/workspace/ln/dir/host-secret.txt']) {
          // Reading must never return the host's file: either the sandbox's view or a refusal.
          const read = await provider.readFile(shared, path).then(
            (b) => b.toString(),
            (e: unknown) => {
              expect(e).toBeInstanceOf(ProviderError);
              return '';
            },
          );
          expect(read).not.toContain(secret);
          await provider.writeFiles(shared, [{ path, content: Buffer.from('overwritten') }]).catch((e: unknown) => {
            expect(e).toBeInstanceOf(ProviderError);
          });
          expect(await readFile(hostFile, 'utf8')).toBe(secret);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    test('readFile of a missing file is a clear error', async () => {
      const err = await rejectsWith(provider.readFile(shared, '/workspace/does/not/exist.txt'), ProviderError);
      expect(err.message).toContain('/workspace/does/not/exist.txt');
    });

    test('volumes: data lands in the host dir and survives stop and start', async () => {
      if (!has('volumes')) {
        const id = await createSandbox();
        await rejectsWith(provider.start(id, { volumes: [{ hostPath: tmpdir(), path: '/data' }] }), UnsupportedCapabilityError);
        return;
      }
      const vol = opts.volumeDir
        ? await opts.volumeDir()
        : await mkdtemp(join(tmpdir(), 'pe-conformance-vol-')).then((hostPath) => ({ hostPath, cleanup: () => rm(hostPath, { recursive: true, force: true }) }));
      const ro = await mkdtemp(join(tmpdir(), 'pe-conformance-ro-'));
      try {
        await writeFile(join(vol.hostPath, 'from-host.txt'), 'hello from host');
        await writeFile(join(ro, 'ro.txt'), 'read only');
        const id = await createSandbox();
        await provider.start(id, { volumes: [{ hostPath: vol.hostPath, path: '/data' }, { hostPath: ro, path: '/ro', readOnly: true }] });
        expect(await sh(id, 'cat /data/from-host.txt; echo; cat /ro/ro.txt')).toBe('hello from host\nread only');
        await sh(id, 'echo written-inside > /data/inside.txt');
        expect(await readFile(join(vol.hostPath, 'inside.txt'), 'utf8')).toBe('written-inside\n');
        expect((await provider.exec(id, 'echo x > /ro/nope.txt')).exitCode).not.toBe(0);
        await provider.writeFiles(id, [{ path: '/data/via-api.txt', content: Buffer.from('api') }]);
        expect(await readFile(join(vol.hostPath, 'via-api.txt'), 'utf8')).toBe('api');
        expect((await provider.readFile(id, '/data/from-host.txt')).toString()).toBe('hello from host');
        await provider.stop(id);
        await provider.start(id);
        expect(await sh(id, 'cat /data/inside.txt')).toBe('written-inside\n');
        await provider.delete(id);
        expect(await readFile(join(vol.hostPath, 'inside.txt'), 'utf8')).toBe('written-inside\n');
      } finally {
        await vol.cleanup();
        await rm(ro, { recursive: true, force: true });
      }
    });

    test('repo: start clones into /workspace, a failed clone is a clear error', async () => {
      if (!has('repo')) {
        const id = await createSandbox();
        await rejectsWith(provider.start(id, { repo: 'https://example.invalid/x.git' }), UnsupportedCapabilityError);
        return;
      }
      if (!opts.gitRepo) throw new Error(`provider ${opts.name} declares 'repo': pass gitRepo to runProviderSuite`);
      const repo = await opts.gitRepo();
      try {
        const id = await createSandbox();
        await provider.start(id, { repo: repo.url });
        for (const [path, content] of Object.entries(repo.files)) {
          expect((await provider.readFile(id, `/workspace/${path}`)).toString()).toBe(content);
        }
        expect((await sh(id, 'git -C /workspace rev-parse --is-inside-work-tree')).trim()).toBe('true');
        // A restart does not clone again (and does not fail on the non-empty workspace).
        await sh(id, 'echo local-change > /workspace/local.txt');
        await provider.stop(id);
        await provider.start(id, { repo: repo.url });
        expect(await sh(id, 'cat /workspace/local.txt; ls /workspace | wc -l')).toBe(`local-change\n${Object.keys(repo.files).length + 1}\n`);

        const bad = await createSandbox();
        const err = await rejectsWith(provider.start(bad, { repo: repo.badUrl }), ProviderError);
        expect(err.message).toContain(repo.badUrl);
        expect(err.message.toLowerCase()).toMatch(/clon/);
      } finally {
        await repo.close();
      }
    });

    test('terminal: a login shell in a PTY with the sandbox env, resize, Ctrl+C and exit code', async () => {
      if (!has('terminal')) {
        await rejectsWith(provider.terminalCommand(shared, { cols: 80, rows: 24 }), UnsupportedCapabilityError);
        return;
      }
      const term = await provider.terminalCommand(shared, { cols: 100, rows: 30, env: { SUITE_TTY: 'tty env' } });
      const pty = runInPty(term.file, term.args);
      try {
        pty.write('echo "[$SUITE_A][$SUITE_TTY]"; stty size; tty\n');
        const ttyName = opts.terminalOnSandboxDevpts === false ? 'not a tty' : '\\/dev\\/pts\\/\\d+';
        await pty.waitFor(new RegExp(`\\[from-start\\]\\[tty env\\]\\r?\\n30 100\\r?\\n${ttyName}`));
        await term.resize(120, 40);
        pty.write('stty size\n');
        await pty.waitFor(/40 120/);
        // Ctrl+C reaches the foreground job inside the sandbox, not the runtime's process on the host.
        pty.write('sleep 3007\n');
        await sleep(300);
        pty.write('\x03');
        pty.write('echo "after-$((40+2))"\n');
        await pty.waitFor(/after-42/);
        pty.write('exit 7\n');
        expect(await pty.exitCode).toBe(7);
      } finally {
        pty.kill();
        await term.dispose();
      }
      expect(await countProcs(shared, 'sleep 3007')).toBe(0);
    });

    test('undeclared capabilities throw UnsupportedCapabilityError', async () => {
      const checks: Partial<Record<Capability, (id: string) => Promise<unknown>>> = {
        exec: (id) => provider.exec(id, 'true'),
        execStream: (id) => provider.execStream(id, 'true', {}),
        files: (id) => provider.readFile(id, '/etc/hostname'),
        terminal: async (id) => (await provider.terminalCommand(id, { cols: 80, rows: 24 })).dispose(),
        stopStart: async (id) => {
          await provider.stop(id);
          await provider.start(id);
        },
      };
      const undeclared = (Object.keys(checks) as Capability[]).filter((c) => !has(c));
      for (const cap of undeclared) {
        const err = await rejectsWith(checks[cap]!(shared), UnsupportedCapabilityError);
        expect(err.capability).toBe(cap);
      }
      // Declared ones must work (the rest of the suite checks them in depth).
      for (const cap of (Object.keys(checks) as Capability[]).filter(has)) await checks[cap]!(shared);
      expect((await provider.observe(shared)).state).toBe('running');
    });
  });
}

/**
 * Runs a command inside a fresh PTY using util-linux `script` (always present on Debian), so
 * the suite needs no native module. Output is collected; `waitFor` polls it.
 */
function runInPty(file: string, args: string[]) {
  const quote = (w: string) => `'${w.replace(/'/g, `'\\''`)}'`;
  const child = spawn('script', ['-qefc', [file, ...args].map(quote).join(' '), '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stdin.on('error', () => undefined);
  const exitCode = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    exitCode,
    write: (text: string) => child.stdin.write(text),
    kill: () => child.kill('SIGKILL'),
    async waitFor(pattern: RegExp, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`terminal output never matched ${pattern}; got: ${JSON.stringify(output)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}
