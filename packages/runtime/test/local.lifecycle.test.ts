/**
 * Lifecycle of local sandboxes as the host sees it: files survive stop/start (also in a
 * sandbox made before disk images existed),
 * stop gives processes a grace period, delete leaves no trace on the host (mounts,
 * veths, nft rules, cgroups, dirs, processes), a repo is cloned at start, a new
 * provider on the same state dir adopts what runs, and runc works as a fallback.
 */
import { existsSync } from 'node:fs';
import { chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SandboxNotRunningError } from '../src/provider/errors';
import { LocalProvider } from '../src/local/index';
import { SANDBOX_UID_BASE } from '../src/local/oci-config';
import { startTestGitHost } from './support/git-host';
import { hostTraces, NO_TRACES } from './support/host-traces';
import { createSpec, localUnavailableReason, tempProvider, uniqueId, warnSkipped } from './support/local';

const unavailable = localUnavailableReason();
warnSkipped('local.lifecycle.test.ts', unavailable);

describe.skipIf(!!unavailable)('local sandbox lifecycle', () => {
  const t = tempProvider();
  const { provider, stateDir } = t;
  afterAll(() => t.cleanup());

  const ok = async (id: string, command: string) => {
    const r = await provider.exec(id, command, { timeoutMs: 60_000 });
    expect(r.exitCode, `${command}: ${r.stderr.toString()}`).toBe(0);
    return r.stdout.toString();
  };

  it('keeps the sandbox filesystem across stop and start', async () => {
    const id = uniqueId('lcf');
    await provider.create(createSpec(id));
    await provider.start(id);
    await ok(id, 'echo survives > /workspace/note.txt && mkdir -p /opt/tool && echo v1 > /opt/tool/version && rm /etc/issue');
    await provider.stop(id);
    expect((await provider.observe(id)).state).toBe('stopped');
    await provider.start(id);
    expect(await ok(id, 'cat /workspace/note.txt /opt/tool/version; test -e /etc/issue && echo issue || echo no-issue')).toBe('survives\nv1\nno-issue\n');
    await provider.delete(id);
  });

  it('keeps running a sandbox made before disk images (a plain upper dir), with its files', async () => {
    const id = uniqueId('lcl');
    await provider.create(createSpec(id));
    // What an older version left on disk: spec.json, and the layer as plain dirs beside it.
    const dir = join(stateDir, 'sandboxes', id);
    await rm(join(dir, 'disk.img'));
    await mkdir(join(dir, 'upper', 'workspace'), { recursive: true });
    await writeFile(join(dir, 'upper', 'workspace', 'old.txt'), 'from before\n');
    for (const rel of ['upper', 'upper/workspace', 'upper/workspace/old.txt']) await chown(join(dir, rel), SANDBOX_UID_BASE, SANDBOX_UID_BASE);
    await provider.start(id);
    expect(await ok(id, 'cat /workspace/old.txt; echo new > /workspace/new.txt')).toBe('from before\n');
    await provider.stop(id);
    await provider.start(id);
    expect(await ok(id, 'cat /workspace/new.txt')).toBe('new\n');
    expect(existsSync(join(dir, 'disk.img'))).toBe(false);
    await provider.delete(id);
    expect(existsSync(dir)).toBe(false);
  });

  it('gives processes a grace period on stop, then ends them all', async () => {
    const id = uniqueId('lcg');
    await provider.create(createSpec(id));
    await provider.start(id);
    // A process that cleans up on SIGTERM gets to do it; one that ignores TERM is killed anyway.
    await ok(id, `nohup sh -c 'trap "echo graceful > /workspace/bye; exit 0" TERM; while :; do sleep 0.1; done' >/dev/null 2>&1 &`);
    await ok(id, `nohup sh -c 'trap "" TERM; while :; do sleep 0.1; done' >/dev/null 2>&1 &`);
    await new Promise((r) => setTimeout(r, 300));
    await provider.stop(id);
    expect(await hostTraces(stateDir, id).then((tr) => tr.processes)).toEqual([]);
    await provider.start(id);
    expect(await ok(id, 'cat /workspace/bye')).toBe('graceful\n');
    await provider.delete(id);
  });

  it('fails exec on a stopped sandbox with a clear error', async () => {
    const id = uniqueId('lcs');
    await provider.create(createSpec(id));
    await provider.start(id);
    await provider.stop(id);
    const err = await provider.exec(id, 'true').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SandboxNotRunningError);
    expect((err as Error).message).toMatch(new RegExp(`${id} is not running`));
    await provider.delete(id);
  });

  it('delete leaves nothing on the host, whatever state the sandbox was in', async () => {
    const running = uniqueId('lcdr');
    const stopped = uniqueId('lcds');
    const fresh = uniqueId('lcdn');
    for (const id of [running, stopped, fresh]) await provider.create(createSpec(id));
    await provider.start(running);
    await provider.start(stopped);
    await provider.stop(stopped);
    await ok(running, 'nohup sleep 3600 >/dev/null 2>&1 &');

    const address = (await provider.observe(running)).address;
    expect(address).toBeTruthy();
    const live = await hostTraces(stateDir, running, address);
    // Sanity: the lookups do see a running sandbox's objects.
    expect(live.mounts.length).toBeGreaterThan(0);
    expect(live.loops).toHaveLength(1); // its disk image
    expect(live.veths).toHaveLength(1);
    expect(live.allocations).toEqual([running]);
    expect(live.cgroups.length).toBeGreaterThan(0);
    expect(live.processes.length).toBeGreaterThan(1);
    expect(live.paths.length).toBe(3);
    // A stopped sandbox holds only its files.
    expect({ ...(await hostTraces(stateDir, stopped)), paths: [] }).toEqual(NO_TRACES);

    for (const id of [running, stopped, fresh]) {
      await provider.delete(id);
      expect(await hostTraces(stateDir, id, id === running ? address : undefined), id).toEqual(NO_TRACES);
      await provider.delete(id);
    }
  });

  it('clones the repo at start: into /workspace, or a subfolder when it is not empty', async () => {
    const git = await startTestGitHost({ app: { 'README.md': '# app\n', 'bin/run.sh': 'echo run\n' }, lib: { 'lib.txt': 'lib\n' } });
    try {
      const id = uniqueId('lcr');
      await provider.create(createSpec(id));
      await provider.start(id, { repo: git.url('app') });
      expect(await ok(id, 'cat /workspace/README.md /workspace/bin/run.sh; git -C /workspace log --oneline | wc -l')).toBe('# app\necho run\n1\n');
      await provider.stop(id);
      await provider.start(id, { repo: git.url('lib') });
      expect(await ok(id, 'cat /workspace/lib/lib.txt; ls /workspace')).toBe('lib\nREADME.md\nbin\nlib\n');

      const bad = uniqueId('lcrb');
      await provider.create(createSpec(bad));
      const err = await provider.start(bad, { repo: git.url('missing') }).catch((e: unknown) => e as Error);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toContain(`cloning ${git.url('missing')}`);
      // A failed start leaves the sandbox stopped, not half-up.
      expect((await provider.observe(bad)).state).toBe('stopped');
      await provider.delete(id);
      await provider.delete(bad);
    } finally {
      await git.close();
    }
  });

  it('a new provider on the same state dir adopts running sandboxes and keeps stopped ones', async () => {
    const up = uniqueId('lcau');
    const down = uniqueId('lcad');
    await provider.create(createSpec(up));
    await provider.create(createSpec(down));
    await provider.start(up, { env: { KEPT: 'yes' } });
    await ok(up, 'nohup sleep 3700 >/dev/null 2>&1 &');
    const second = new LocalProvider({ stateDir });
    const seen = new Map((await second.list()).map((s) => [s.id, s.state]));
    expect(seen.get(up)).toBe('running');
    expect(seen.get(down)).toBe('stopped');
    // Adopted as is: same processes, same env.
    expect((await second.exec(up, "echo $KEPT; ps -eo args= | grep -cx 'sleep 3700'")).stdout.toString()).toBe('yes\n1\n');
    await second.start(down);
    expect((await second.exec(down, 'echo up')).stdout.toString()).toBe('up\n');
    await second.delete(up);
    await second.delete(down);
  });
});

describe.skipIf(!!unavailable)('local sandbox lifecycle with runc (fallback runtime)', () => {
  const t = tempProvider({ ociRuntime: 'runc' });
  afterAll(() => t.cleanup());

  it('creates, runs, stops, starts and deletes without leaks', async () => {
    const { provider, stateDir } = t;
    expect(await provider.runtimeName()).toBe('runc');
    const id = uniqueId('lcrc');
    await provider.create(createSpec(id));
    await provider.start(id);
    const r = await provider.exec(id, 'hostname; id -u; echo data > /workspace/f; cat /proc/1/cmdline | tr "\\0" " "');
    expect(r.stdout.toString()).toBe(`box-${id}\n0\n/dev/init -P `);
    const timed = await provider.exec(id, 'sleep 3800 & sleep 3800', { timeoutMs: 1000 });
    expect(timed.timedOut).toBe(true);
    expect((await provider.exec(id, "ps -eo args= | grep -cx 'sleep 3800' || true")).stdout.toString()).toBe('0\n');
    await provider.stop(id);
    await provider.start(id);
    expect((await provider.exec(id, 'cat /workspace/f')).stdout.toString()).toBe('data\n');
    const address = (await provider.observe(id)).address;
    await provider.delete(id);
    expect(await hostTraces(stateDir, id, address)).toEqual(NO_TRACES);
  });
});
