/**
 * Base images: the shared debian cache, the build logic on a tiny template in a
 * temp image dir (root build, derived layer, rebuild on template change, one
 * build under concurrency, failed builds), and progress parsing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnknownBaseError } from '../src/provider/errors';
import type { ProgressEvent } from '../src/provider/types';
import { AptProgress, MMDEBSTRAP_STAGES } from '../src/local/images/apt-progress';
import { BaseImages, UID_BASE, UID_COUNT } from '../src/local/images/index';
import { mountsUnder } from '../src/local/images/fs-util';
import { DEFAULT_IMAGE_DIR } from '../src/local/images/default-dir';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('\n*** images.test.ts: NOT ROOT — building images needs root; these tests are skipped ***\n');

function owner(path: string): number {
  return statSync(path).uid;
}

describe.skipIf(!isRoot)('shared debian base', () => {
  const images = new BaseImages({ imageDir: process.env.POCKETENV_IMAGE_DIR || DEFAULT_IMAGE_DIR });
  let rootfs = '';

  beforeAll(async () => {
    // Built once per machine (about a minute); instant when already cached.
    rootfs = await images.ensure('debian');
  });

  it('is a single read-only lower dir owned by the user-namespace range', async () => {
    expect(rootfs).toBe(images.rootfs('debian'));
    expect(images.lowerDirs('debian')).toEqual([rootfs]);
    expect(rootfs).not.toContain(':');
    expect(owner(join(rootfs, 'etc/passwd'))).toBe(UID_BASE);
    expect(owner(rootfs)).toBe(UID_BASE);
    // _apt (uid 42 inside) must map into the range too, or apt's sandbox breaks.
    expect(owner(join(rootfs, 'var/lib/apt/lists/partial'))).toBe(UID_BASE + 42);
    expect(await images.isReady('debian')).toBe(true);
  });

  it('has the tools a developer expects and /workspace', () => {
    for (const tool of ['git', 'curl', 'wget', 'python3', 'jq', 'sudo', 'ssh', 'unzip', 'xz', 'less', 'ps', 'ip', 'ping']) {
      expect(existsSync(join(rootfs, 'usr/bin', tool)) || existsSync(join(rootfs, 'usr/sbin', tool)), tool).toBe(true);
    }
    expect(statSync(join(rootfs, 'workspace')).isDirectory()).toBe(true);
    expect(owner(join(rootfs, 'workspace'))).toBe(UID_BASE);
  });

  it('keeps what apt and sudo need: sticky /tmp, the _apt user, setuid sudo, ping capability', () => {
    expect(statSync(join(rootfs, 'tmp')).mode & 0o7777).toBe(0o1777);
    expect(readFileSync(join(rootfs, 'etc/passwd'), 'utf8')).toMatch(/^_apt:/m);
    expect(statSync(join(rootfs, 'usr/bin/sudo')).mode & 0o4000).toBe(0o4000);
    expect(execFileSync('getcap', [join(rootfs, 'usr/bin/ping')]).toString()).toContain('cap_net_raw');
  });

  it('leaks nothing of the host and excludes docs', () => {
    expect(readFileSync(join(rootfs, 'etc/resolv.conf'), 'utf8')).toBe('');
    expect(readFileSync(join(rootfs, 'etc/hostname'), 'utf8').trim()).toBe('localhost');
    expect(existsSync(join(rootfs, 'usr/share/man/man1'))).toBe(false);
    expect(readdirSync(join(rootfs, 'var/cache/apt')).filter((f) => f.endsWith('.bin'))).toEqual([]);
  });

  it('ensure is idempotent and lists debian as ready', async () => {
    const events: ProgressEvent[] = [];
    expect(await images.ensure('debian', (e) => events.push(e))).toBe(rootfs);
    expect(events.map((e) => e.phase)).toEqual(['debian: ready']);
    const listed = await images.list();
    expect(listed.find((b) => b.name === 'debian')).toMatchObject({ ready: true });
    expect(listed.every((b) => b.description.length > 0)).toBe(true);
  });

  it('refuses an unknown base, naming the available ones', async () => {
    const err = await images.ensure('no-such-base').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownBaseError);
    expect((err as Error).message).toContain('debian');
    expect(() => images.rootfs('no-such-base')).toThrow(UnknownBaseError);
  });
});

describe.skipIf(!isRoot)('building from templates (temp image dir)', () => {
  let work = '';
  let templateDir = '';
  let imageDir = '';
  const mounted: string[] = [];

  const writeTemplate = (name: string, body: object) =>
    writeFileSync(join(templateDir, `${name}.json`), JSON.stringify({ name, description: `test ${name}`, ...body }));

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'pocketenv-images-'));
    templateDir = join(work, 'templates');
    imageDir = join(work, 'images');
    mkdirSync(templateDir);
    // The smallest root image mmdebstrap builds: Essential packages only, no apt.
    writeTemplate('tiny', { variant: 'essential' });
    writeTemplate('tiny-child', { from: 'tiny', run: ['echo hello > /etc/greeting', 'mkdir -p /opt/tool && rm -f /etc/issue'] });
  });

  afterAll(() => {
    for (const m of mounted) {
      try {
        execFileSync('umount', [m]);
      } catch {
        /* already gone */
      }
    }
    // Never follow into a mount: a leftover overlay would expose real lower dirs.
    if (work) execFileSync('rm', ['-rf', '--one-file-system', work]);
  });

  it('concurrent ensure calls build a root image exactly once', async () => {
    const a = new BaseImages({ imageDir, templateDir });
    const b = new BaseImages({ imageDir, templateDir });
    const eventsA: ProgressEvent[] = [];
    const eventsB: ProgressEvent[] = [];
    const [pathA, pathB] = await Promise.all([
      a.ensure('tiny', (e) => eventsA.push(e)),
      b.ensure('tiny', (e) => eventsB.push(e)),
    ]);
    expect(pathA).toBe(pathB);
    const starts = [...eventsA, ...eventsB].filter((e) => e.phase === 'tiny: start');
    expect(starts).toHaveLength(1);
    // The one that did not build was told it waits for the other.
    const waiter = eventsA.some((e) => e.phase === 'tiny: start') ? eventsB : eventsA;
    expect(waiter.some((e) => e.phase === 'tiny: waiting')).toBe(true);
    // Progress of the builder moved forward and finished at 1.
    const builder = waiter === eventsA ? eventsB : eventsA;
    const fractions = builder.map((e) => e.fraction).filter((f): f is number => f !== undefined);
    expect(fractions.length).toBeGreaterThan(5);
    expect(fractions).toEqual([...fractions].sort((x, y) => x - y));
    expect(fractions.at(-1)).toBe(1);

    expect(owner(join(pathA, 'etc/passwd'))).toBe(UID_BASE);
    expect(statSync(join(pathA, 'workspace')).isDirectory()).toBe(true);
    expect(readdirSync(imageDir).filter((d) => d.startsWith('.build-'))).toEqual([]);
    const marker = JSON.parse(readFileSync(join(pathA, '..', 'image.json'), 'utf8'));
    expect(marker).toMatchObject({ name: 'tiny', template: { variant: 'essential' } });
  });

  it('builds a derived template as a stacked layer owned by the range', async () => {
    const images = new BaseImages({ imageDir, templateDir });
    const lowerdir = await images.ensure('tiny-child');
    const [layer, parent] = images.lowerDirs('tiny-child');
    expect(lowerdir).toBe(`${layer}:${parent}`);
    expect(parent).toBe(images.rootfs('tiny'));
    // The layer holds only what the template changed, created by container root.
    expect(readFileSync(join(layer!, 'etc/greeting'), 'utf8')).toBe('hello\n');
    expect(owner(join(layer!, 'etc/greeting'))).toBe(UID_BASE);
    expect(existsSync(join(layer!, 'usr/bin/bash'))).toBe(false);

    // Stacked as the provider will: the merged view has both layers and honours deletions.
    const merged = join(work, 'merged');
    for (const d of ['upper', 'ovl-work', 'merged']) mkdirSync(join(work, d), { recursive: true });
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lowerdir},upperdir=${join(work, 'upper')},workdir=${join(work, 'ovl-work')}`, merged]);
    mounted.push(merged);
    expect(readFileSync(join(merged, 'etc/greeting'), 'utf8')).toBe('hello\n');
    expect(existsSync(join(merged, 'usr/bin/bash'))).toBe(true);
    expect(existsSync(join(parent!, 'etc/issue'))).toBe(true);
    expect(existsSync(join(merged, 'etc/issue'))).toBe(false);
    expect(statSync(join(merged, 'opt/tool')).uid).toBe(UID_BASE);
    execFileSync('umount', [merged]);
    mounted.pop();
  });

  it('rebuilds when a template changes, leaving the old version intact', async () => {
    const images = new BaseImages({ imageDir, templateDir });
    const before = images.lowerDirs('tiny-child')[0]!;
    writeTemplate('tiny-child', { from: 'tiny', run: ['echo changed > /etc/greeting'] });
    const after = images.lowerDirs('tiny-child')[0]!;
    expect(after).not.toBe(before);
    expect(await images.isReady('tiny-child')).toBe(false);
    // The parent did not change, so it is not rebuilt.
    expect(await images.isReady('tiny')).toBe(true);
    const events: ProgressEvent[] = [];
    await images.ensure('tiny-child', (e) => events.push(e));
    expect(events.some((e) => e.phase === 'tiny: start')).toBe(false);
    expect(events.some((e) => e.phase === 'tiny-child: start')).toBe(true);
    expect(readFileSync(join(after, 'etc/greeting'), 'utf8')).toBe('changed\n');
    expect(readFileSync(join(before, 'etc/greeting'), 'utf8')).toBe('hello\n');
  });

  it('a failing step fails the build with its output and leaves nothing half-built', async () => {
    writeTemplate('broken', { from: 'tiny', run: ['echo about to fail; exit 3'] });
    const images = new BaseImages({ imageDir, templateDir });
    const err = (await images.ensure('broken').catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain('building base broken failed');
    expect(err.message).toContain('about to fail');
    expect(await images.isReady('broken')).toBe(false);
    expect(readdirSync(imageDir).filter((d) => d.startsWith('.build-') || d.startsWith('broken-'))).toEqual([]);
    expect(readFileSync(join(imageDir, '.failed-broken.log'), 'utf8')).toContain('about to fail');
    expect(await mountsUnder(imageDir)).toEqual([]);
  });

  it('refuses an invalid template with the file and the problem', async () => {
    writeTemplate('bad', { from: 'tiny', packages: ['git; rm -rf /'] });
    const images = new BaseImages({ imageDir, templateDir });
    await expect(images.list()).rejects.toThrow(/bad\.json.*packages.*invalid entry/);
    rmSync(join(templateDir, 'bad.json'));
  });
});

describe('progress parsing', () => {
  it('turns mmdebstrap output into a monotonic fraction', () => {
    const events: ProgressEvent[] = [];
    const p = new AptProgress(MMDEBSTRAP_STAGES, (e) => events.push(e));
    const lines = [
      'I: running apt-get update...',
      'I: downloading packages with apt...',
      '0 upgraded, 4 newly installed, 0 to remove and 0 not upgraded.',
      ...['a', 'b', 'c', 'd'].map((n, i) => `Get:${i + 1} http://deb.debian.org/debian bookworm/main amd64 ${n} amd64 1.0 [1 kB]`),
      'I: extracting archives...',
      'I: installing essential packages...',
      ...['a', 'b'].flatMap((n) => [`Unpacking ${n} (1.0) ...`, `Setting up ${n} (1.0) ...`]),
      'I: installing remaining packages inside the chroot...',
      'I: cleaning package lists and apt cache...',
    ];
    lines.forEach((l) => p.line(l));
    const fractions = events.map((e) => e.fraction!);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    // All 4 downloads done = end of the download stage.
    const lastDownload = events.filter((e) => e.phase === 'download').at(-1)!;
    expect(lastDownload.fraction).toBeCloseTo(0.3);
    expect(lastDownload.message).toBe('downloading d');
    expect(events.some((e) => e.message === 'setting up b')).toBe(true);
    expect(fractions.at(-1)).toBeCloseTo(0.9);
  });
});

it('exports the user-namespace range the provider maps', () => {
  expect(UID_BASE % 65536).toBe(0);
  expect(UID_COUNT).toBe(65536);
});
