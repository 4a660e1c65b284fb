/**
 * Archive inspection (what the copy store and backups check before unpacking anything), on
 * archives built byte by byte in memory: ordinary entries pass with an exact summary; absolute
 * paths, `..` components and symbolic links that lead out are refused as `unsafe`, naming the
 * entry; what is not tar+gzip is `invalid`; size limits are `too-large`. Also the size parser
 * behind POCKETENV_COPY_MAX_*.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ArchiveError, archiveLimitsFromEnv, DEFAULT_ARCHIVE_LIMITS, inspectArchive, type InspectOptions } from '../src/archive';
import { gzipOf, tarOf } from './support/archive-corpus';

type Entries = Parameters<typeof gzipOf>[0];

const inspect = (bytes: Buffer, opts?: InspectOptions) => inspectArchive(Readable.from([bytes]), opts);

async function refusal(bytes: Buffer, opts?: InspectOptions): Promise<ArchiveError> {
  const err = await inspect(bytes, opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'the archive must be refused').toBeInstanceOf(ArchiveError);
  return err as ArchiveError;
}

const file = (path: string, text = 'x') => ({ type: 'File' as const, path, body: Buffer.from(text) });
const dir = (path: string) => ({ type: 'Directory' as const, path });
const symlink = (path: string, linkpath: string) => ({ type: 'SymbolicLink' as const, path, linkpath });

describe('inspectArchive: ordinary archives pass', () => {
  it('summarises files, directories and links: entry count, sizes and the sha256 of what was read', async () => {
    const bytes = gzipOf([dir('src/'), file('src/main.ts', 'console.log(1)\n'), file('README.md', '# hi\n'), symlink('latest', 'src/main.ts'), { type: 'Link', path: 'copy.ts', linkpath: 'src/main.ts' }]);
    const summary = await inspect(bytes);
    expect(summary).toEqual({
      entries: 5,
      archiveBytes: bytes.length,
      unpackedBytes: expect.any(Number),
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    // 5 headers, 2 data blocks and the 2 end-of-archive blocks, in 512-byte blocks.
    expect(summary.unpackedBytes).toBe(9 * 512);
  });

  it('accepts ./ prefixes and links that stay inside', async () => {
    await expect(inspect(gzipOf([dir('./a/'), file('./a/b.txt'), symlink('a/up', '../a/b.txt'), symlink('a/here', './b.txt')]))).resolves.toMatchObject({ entries: 4 });
  });

  it('accepts links to anywhere for backups (any-target), as long as nothing is written through them', async () => {
    const venv = gzipOf([dir('venv/bin/'), symlink('venv/bin/python', '/usr/bin/python3')]);
    await expect(inspect(venv, { symlinks: 'any-target' })).resolves.toMatchObject({ entries: 2 });
    const through = gzipOf([symlink('venv', '/usr/lib'), file('venv/evil.so')]);
    expect((await refusal(through, { symlinks: 'any-target' })).message).toMatch(/written through the symbolic link "venv"/);
  });
});

describe('inspectArchive: entries that would land outside the target are refused', () => {
  it.each<[string, Entries, RegExp, string]>([
    ['an absolute path', [file('/etc/cron.d/evil')], /is an absolute path/, '/etc/cron.d/evil'],
    ['a leading ..', [file('../../outside.txt')], /contains a '\.\.' component/, '../../outside.txt'],
    ['a .. in the middle', [dir('a/'), file('a/../../outside.txt')], /contains a '\.\.' component/, 'a/../../outside.txt'],
    ['a hard link to an absolute path', [{ type: 'Link', path: 'x', linkpath: '/etc/shadow' }], /absolute path/, 'x'],
  ])('%s', async (_what, entries, why, entry) => {
    const err = await refusal(gzipOf(entries));
    expect(err.reason).toBe('unsafe');
    expect(err.message).toMatch(why);
    expect(err.entry).toBe(entry);
  });

  it.each<[string, Entries, string]>([
    ['an absolute target', [symlink('etc', '/etc')], 'etc'],
    ['a target that climbs out', [dir('a/'), symlink('a/out', '../../x')], 'a/out'],
    ['a chain of links that climbs out', [dir('d/'), symlink('d/s', '..'), symlink('a', 'd/s/..')], 'a'],
  ])('a symbolic link with %s (copies)', async (_what, entries, entry) => {
    const err = await refusal(gzipOf(entries));
    expect(err.reason).toBe('unsafe');
    expect(err.message).toMatch(/points outside the directory/);
    expect(err.entry).toBe(entry);
  });

  it('a file written through a symbolic link of the same archive', async () => {
    const err = await refusal(gzipOf([symlink('link', 'dir'), dir('dir/'), file('link/x')]));
    expect(err.message).toMatch(/written through the symbolic link "link"/);
  });

  it('a hard link to something that is not an earlier file of the archive', async () => {
    const err = await refusal(gzipOf([{ type: 'Link', path: 'x', linkpath: 'later.txt' }, file('later.txt')]));
    expect(err.message).toMatch(/not an earlier file of the archive/);
  });

  it('device files and fifos', async () => {
    expect((await refusal(gzipOf([{ type: 'CharacterDevice', path: 'null', major: 1, minor: 3 }]))).message).toMatch(/a character device/);
    expect((await refusal(gzipOf([{ type: 'FIFO', path: 'pipe' }]))).message).toMatch(/a fifo/);
  });
});

describe('inspectArchive: limits and malformed input', () => {
  it('refuses more entries than allowed, and more bytes than allowed (compressed: too-large; unpacked: unsafe)', async () => {
    const three = gzipOf([file('a'), file('b'), file('c')]);
    expect((await refusal(three, { maxEntries: 2 })).message).toMatch(/more than 2 entries/);
    const big = await refusal(three, { maxArchiveBytes: 10 });
    expect(big.reason).toBe('too-large');
    expect(big.message).toBe('the archive is larger than 10 bytes');
    expect((await refusal(gzipOf([file('big', 'x'.repeat(4096))]), { maxUnpackedBytes: 2048 })).message).toMatch(/unpacks to more than 2 KiB/);
  });

  it('calls plain bytes, a bare tar and an empty upload invalid', async () => {
    expect((await refusal(Buffer.from('not an archive at all'))).reason).toBe('invalid');
    expect((await refusal(tarOf([file('a')]))).message).toMatch(/not a valid gzip stream/);
    expect((await refusal(Buffer.alloc(0))).message).toBe('the archive is empty');
  });
});

// The size parser itself is @pocketenv/config's (packages/config/test/parsers.unit.test.ts).
describe('archiveLimitsFromEnv', () => {
  it('reads the three limits from the environment, defaulting each', () => {
    expect(archiveLimitsFromEnv({})).toEqual(DEFAULT_ARCHIVE_LIMITS);
    expect(archiveLimitsFromEnv({ POCKETENV_COPY_MAX_BYTES: '1MiB', POCKETENV_COPY_MAX_ENTRIES: '10' })).toEqual({
      ...DEFAULT_ARCHIVE_LIMITS,
      maxArchiveBytes: 1024 * 1024,
      maxEntries: 10,
    });
    expect(() => archiveLimitsFromEnv({ POCKETENV_COPY_MAX_ENTRIES: 'many' })).toThrow(/POCKETENV_COPY_MAX_ENTRIES/);
  });
});
