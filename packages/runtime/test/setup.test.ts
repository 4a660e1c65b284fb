/**
 * Host preflight, host packages, setupLocalHost and the progress renderer.
 * Missing capabilities are simulated through the check's parameters (a fake
 * /proc/filesystems, a non-root uid, an empty cgroup dir), never by mocking.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostNotReadyError, UnknownBaseError } from '../src/provider/errors';
import type { ProgressEvent } from '../src/provider/types';
import { assertHostReady, checkHost, detectCgroupLayout, type HostReport } from '../src/local/host-check';
import { missingPackages } from '../src/local/host-packages';
import { renderProgress } from '../src/local/progress-bar';
import { setupLocalHost } from '../src/local/setup';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('\n*** setup.test.ts: NOT ROOT — the real-host setup tests are skipped ***\n');

let fake = '';
beforeAll(() => {
  fake = mkdtempSync(join(tmpdir(), 'pocketenv-hostcheck-'));
});
afterAll(() => rmSync(fake, { recursive: true, force: true }));

function check(report: HostReport, name: string) {
  const found = report.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no check ${name}`);
  return found;
}

describe('host check reports what is missing and how to fix it', () => {
  it('no overlayfs in /proc/filesystems', async () => {
    const path = join(fake, 'filesystems');
    writeFileSync(path, 'nodev\tsysfs\nnodev\ttmpfs\n\text4\n');
    const report = await checkHost({ procFilesystems: path, probeUserns: false });
    expect(report.ok).toBe(false);
    const c = check(report, 'overlayfs');
    expect(c.ok).toBe(false);
    expect(c.detail).toContain('overlay');
    expect(c.fix).toContain('modprobe overlay');
  });

  it('overlay listed means overlayfs is fine', async () => {
    const path = join(fake, 'filesystems-ok');
    writeFileSync(path, 'nodev\tsysfs\nnodev\toverlay\n');
    expect(check(await checkHost({ procFilesystems: path, probeUserns: false }), 'overlayfs').ok).toBe(true);
  });

  it('not root', async () => {
    const report = await checkHost({ uid: 1000, probeUserns: false });
    const c = check(report, 'root');
    expect(c.ok).toBe(false);
    expect(c.detail).toContain('uid 1000');
    expect(c.fix).toContain('root');
    const err = await assertHostReady({ uid: 1000, probeUserns: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostNotReadyError);
    expect((err as Error).message).toMatch(/needs root.*\n\s+fix: run the server/);
  });

  it('user namespaces disabled or absent', async () => {
    const zero = join(fake, 'max_user_namespaces');
    writeFileSync(zero, '0\n');
    const disabled = check(await checkHost({ maxUserNamespaces: zero }), 'userns');
    expect(disabled.ok).toBe(false);
    expect(disabled.detail).toContain('disabled');
    expect(disabled.fix).toContain('user.max_user_namespaces');
    const absent = check(await checkHost({ maxUserNamespaces: join(fake, 'nope') }), 'userns');
    expect(absent.ok).toBe(false);
    expect(absent.detail).toContain('no user namespaces');
  });

  it('cgroup layouts: none, v1, hybrid, v2 with and without controllers', async () => {
    const none = join(fake, 'cg-none');
    mkdirSync(none);
    const r = await checkHost({ cgroupRoot: none, probeUserns: false });
    expect(r.cgroup).toBe('none');
    expect(check(r, 'cgroups').ok).toBe(false);

    const v1 = join(fake, 'cg-v1');
    for (const c of ['memory', 'cpu', 'pids']) mkdirSync(join(v1, c), { recursive: true });
    expect(detectCgroupLayout(v1)).toBe('v1');
    mkdirSync(join(v1, 'unified'));
    writeFileSync(join(v1, 'unified', 'cgroup.controllers'), 'hugetlb\n');
    expect(detectCgroupLayout(v1)).toBe('hybrid');
    expect(check(await checkHost({ cgroupRoot: v1, probeUserns: false }), 'cgroups').ok).toBe(true);

    const v2 = join(fake, 'cg-v2');
    mkdirSync(v2);
    writeFileSync(join(v2, 'cgroup.controllers'), 'cpuset cpu io memory\n');
    const partial = await checkHost({ cgroupRoot: v2, probeUserns: false });
    expect(partial.cgroup).toBe('v2');
    expect(check(partial, 'cgroups').detail).toContain('pids');
    writeFileSync(join(v2, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
    expect(check(await checkHost({ cgroupRoot: v2, probeUserns: false }), 'cgroups').ok).toBe(true);
  });

  it('no OCI runtime or tools on the search path', async () => {
    const report = await checkHost({ searchPath: [join(fake, 'empty-bin')], probeUserns: false });
    expect(report.ociRuntime).toBeUndefined();
    expect(check(report, 'oci-runtime').fix).toContain('crun');
    const tools = check(report, 'commands');
    expect(tools.ok).toBe(false);
    expect(tools.detail).toContain('mmdebstrap');
    expect(tools.fix).toMatch(/apt-get install .*systemd-container/);
  });

  it('missing seccomp profile names its package', async () => {
    const c = check(await checkHost({ seccompProfile: join(fake, 'seccomp.json'), probeUserns: false }), 'seccomp-profile');
    expect(c.ok).toBe(false);
    expect(c.fix).toContain('golang-github-containers-common');
  });
});

describe.skipIf(!isRoot)('this host', () => {
  it('passes every check, with an OCI runtime and a known cgroup layout', async () => {
    const report = await checkHost();
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(['crun', 'runc']).toContain(report.ociRuntime);
    expect(['v1', 'hybrid', 'v2']).toContain(report.cgroup);
  });

  it('knows which host packages are missing', async () => {
    expect(await missingPackages(['crun', 'mmdebstrap'])).toEqual([]);
    expect(await missingPackages(['crun', 'pocketenv-no-such-package'])).toEqual(['pocketenv-no-such-package']);
  });

  it('setupLocalHost checks the host and ensures the debian base, reporting progress', async () => {
    const events: ProgressEvent[] = [];
    const report = await setupLocalHost({ onProgress: (e) => events.push(e) });
    expect(report.ok).toBe(true);
    // Every default base (and the shared tools) reports ready; debian is the one every sandbox needs.
    expect(events).toContainEqual(expect.objectContaining({ phase: 'debian: ready', fraction: 1 }));
    expect(events.at(-1)).toMatchObject({ fraction: 1 });
    expect(events.some((e) => e.phase.startsWith('host packages'))).toBe(true);
  });

  it('setupLocalHost refuses an unknown base before installing anything', async () => {
    const events: ProgressEvent[] = [];
    const err = await setupLocalHost({ bases: ['debian', 'nope'], onProgress: (e) => events.push(e) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownBaseError);
    expect((err as Error).message).toContain('debian');
    expect(events).toEqual([]);
  });
});

describe('progress renderer', () => {
  function fakeStream(isTTY: boolean) {
    const out: string[] = [];
    const stream = { isTTY, columns: 60, write: (s: string) => out.push(s) > 0 };
    return { out, stream: stream as unknown as NodeJS.WriteStream };
  }

  it('writes plain lines when not a TTY, without repeating every step', () => {
    const { out, stream } = fakeStream(false);
    const render = renderProgress(stream, {});
    render({ phase: 'debian: install', fraction: 0.41, message: 'unpacking git' });
    render({ phase: 'debian: install', fraction: 0.42, message: 'unpacking curl' });
    render({ phase: 'debian: ready', fraction: 1 });
    expect(out).toEqual(['debian: install 41%: unpacking git\n', 'debian: ready 100%\n']);
  });

  it('redraws one bar line on a TTY and ends the line when done', () => {
    const { out, stream } = fakeStream(true);
    const render = renderProgress(stream, {});
    render({ phase: 'debian: install', fraction: 0.5, message: 'setting up a package with a very long name indeed' });
    render({ phase: 'debian: ready', fraction: 1 });
    expect(out[0]).toMatch(/^\r\x1b\[2K\[#{12}\.{12}\]  50% debian: install: /);
    expect(out[0]!.length).toBeLessThanOrEqual(60 + 5);
    expect(out.join('')).toContain('100% debian: ready');
    expect(out.at(-1)).toBe('\n');
  });

  it('writes plain lines on a TTY when the environment says NO_COLOR or TERM=dumb', () => {
    for (const env of [{ NO_COLOR: '' }, { TERM: 'dumb' }]) {
      const { out, stream } = fakeStream(true);
      renderProgress(stream, env)({ phase: 'debian: ready', fraction: 1 });
      expect(out).toEqual(['debian: ready 100%\n']);
    }
  });
});
