/**
 * inspectArchive on its own (no server, no root): crafted archives where tar programs
 * disagree are refused with a message saying why, archives real tars write pass, and — the
 * differential part — whenever an archive passes, GNU tar on this host (the same GNU tar 1.34
 * as in the sandboxes, with the server's options) and node-tar (the SDK's unpacker) write
 * exactly the names the check approved, and nothing outside the target.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectArchive, packPath, unpackArchive, type SymlinkPolicy } from '../src/archive';
import { differentialCorpus, expectedNames, judge } from './support/differential-corpus';
import { BLOCK, dir, file, gnuLongEntry, hardlink, paxEntry, rawEntry, symlink, tarStream } from './support/raw-tar';

/** The options the server unpacks with in a sandbox (packages/server/src/copy/sandbox-tar.ts). */
const GNU_TAR_EXTRACT = ['-xzf', '-', '--no-same-owner', '--no-overwrite-dir', '--no-xattrs', '--no-acls', '--no-selinux'];

let work: string;
const marker = randomBytes(5).toString('hex');

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-inspect-'));
});
afterAll(async () => {
  if (work) await fs.rm(work, { recursive: true, force: true });
});

/** Every name under `root`, relative, sorted (symbolic links are listed, never followed). */
async function listTree(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    for (const d of await fs.readdir(path.join(root, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${d.name}` : d.name;
      out.push(child);
      if (d.isDirectory()) await walk(child);
    }
  };
  await walk('');
  return out.sort();
}

let runs = 0;
/** Unpacks with GNU tar into a fresh `<box>/target`; returns tar's exit code, the target's names and anything else in `<box>`. */
async function gnuUnpack(tar: Buffer): Promise<{ status: number | null; stderr: string; names: string[]; outside: string[] }> {
  const box = path.join(work, `gnu-${++runs}`);
  const target = path.join(box, 'target');
  await fs.mkdir(target, { recursive: true });
  const r = spawnSync('tar', [...GNU_TAR_EXTRACT, '-C', target], { input: zlib.gzipSync(tar) });
  const names = await listTree(target);
  const outside = (await fs.readdir(box)).filter((n) => n !== 'target');
  await fs.rm(box, { recursive: true, force: true });
  return { status: r.status, stderr: r.stderr.toString(), names, outside };
}

async function nodeUnpack(tar: Buffer, symlinks: SymlinkPolicy = 'inside-only'): Promise<{ names: string[]; outside: string[] }> {
  const box = path.join(work, `node-${++runs}`);
  await fs.mkdir(box);
  const archive = path.join(box, 'a.tar.gz');
  await fs.writeFile(archive, zlib.gzipSync(tar));
  await unpackArchive(archive, path.join(box, 'target'), { symlinks });
  const names = await listTree(path.join(box, 'target'));
  const outside = (await fs.readdir(box)).filter((n) => n !== 'target' && n !== 'a.tar.gz');
  await fs.rm(box, { recursive: true, force: true });
  return { names, outside };
}

/** Nothing carrying the marker appeared next to the work directory (where '..' entries would land). */
async function nothingEscaped(): Promise<void> {
  expect((await fs.readdir(os.tmpdir())).filter((n) => n.includes(marker))).toEqual([]);
  expect((await fs.readdir(path.dirname(work))).filter((n) => n.includes(marker))).toEqual([]);
}

describe('the differential corpus', () => {
  for (const c of differentialCorpus(marker)) {
    it(`${c.verdict}: ${c.name}`, async () => {
      const result = await judge(c.tar);
      if (c.verdict === 'refused') {
        expect('refused' in result, 'the check should refuse it').toBe(true);
        if ('refused' in result) expect(result.refused.message).toMatch(c.why!);
        return;
      }
      expect('names' in result && result.names.length > 0, 'refused' in result ? result.refused.message : 'approved nothing').toBe(true);
      if (!('names' in result)) return;
      const expected = result.names;
      const gnu = await gnuUnpack(c.tar);
      expect(gnu.status, gnu.stderr).toBe(0);
      expect(gnu.names).toEqual(expected);
      expect(gnu.outside).toEqual([]);
      const node = await nodeUnpack(c.tar);
      expect(node.names).toEqual(expected);
      expect(node.outside).toEqual([]);
      await nothingEscaped();
    });
  }
});

describe('archives real tars write pass, with exactly their names', () => {
  let tree: string;
  let names: string[];
  beforeAll(async () => {
    tree = path.join(work, 'tree');
    const longDir = `${'long-directory-name-'.repeat(8)}end`;
    await fs.mkdir(path.join(tree, longDir, 'deeper'), { recursive: true });
    await fs.mkdir(path.join(tree, 'empty'));
    await fs.writeFile(path.join(tree, longDir, 'deeper', `${'f'.repeat(120)}.txt`), 'long\n');
    await fs.writeFile(path.join(tree, 'déjà vu.txt'), 'utf-8\n');
    await fs.writeFile(path.join(tree, 'data.bin'), randomBytes(70_000));
    await fs.link(path.join(tree, 'data.bin'), path.join(tree, 'hard.bin'));
    await fs.symlink(`${longDir}/deeper/${'f'.repeat(120)}.txt`, path.join(tree, 'long-link'));
    await fs.symlink('data.bin', path.join(tree, 'short-link'));
    names = await listTree(tree);
  });

  for (const format of ['gnu', 'posix', 'oldgnu']) {
    it(`GNU tar --format=${format} (long names, long link targets, hard links, UTF-8)`, async () => {
      const r = spawnSync('tar', ['-cf', '-', `--format=${format}`, '-C', tree, '.']);
      expect(r.status, r.stderr.toString()).toBe(0);
      const result = await judge(r.stdout);
      expect('names' in result ? result.names : result.refused.message).toEqual(names);
    });
  }

  it('the SDK’s own packer', async () => {
    const file = path.join(work, 'packed.tar.gz');
    await packPath(tree, file);
    const approved: string[] = [];
    await inspectArchive(Readable.from([await fs.readFile(file)]), { onEntry: (e) => approved.push(e.path) });
    expect(expectedNames(approved)).toEqual(names);
  });
});

describe('any archive made of these pieces: refused, or unpacked exactly as approved', () => {
  const names = ['a', 'b', 'a/b', 'a/c', 'd/', './e', 'a//f', 'e/g'];
  const targets = ['a', 'b', 'a/b', '../x', '/tmp', '.'];
  const name = fc.constantFrom(...names);
  const piece = fc.oneof(
    name.map((n) => file(n, 'x')),
    name.map((n) => dir(n)),
    fc.tuple(name, fc.constantFrom(...targets)).map(([n, t]) => symlink(n, t)),
    fc.tuple(name, fc.constantFrom(...names)).map(([n, t]) => hardlink(n, t)),
    name.map((n) => paxEntry([['path', n]])),
    fc.constant(paxEntry([['mtime', '1']])),
    name.map((n) => paxEntry([['path', n]], 'g')),
    name.map((n) => gnuLongEntry('L', n)),
    fc.constantFrom(...targets).map((t) => gnuLongEntry('K', t)),
    fc.constant(Buffer.alloc(BLOCK)),
    name.map((n) => rawEntry({ name: n, typeflag: '7' }, 'x')),
    name.map((n) => rawEntry({ name: n, typeflag: '\0' }, 'x')),
    fc.tuple(name, fc.constantFrom(...names)).map(([n, t]) => rawEntry({ name: n, typeflag: '1', linkname: t }, file('smuggled', 'y'))),
    fc.tuple(name, fc.constantFrom('a', 'p/q', './r')).map(([n, p]) => file(n, 'x', { prefix: p })),
    name.map((n) => paxEntry([['linkpath', n]])),
  );

  it('GNU tar and node-tar agree with the check on 300 random archives (a hang counts as a failure)', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { minLength: 1, maxLength: 10 }), fc.constantFrom<SymlinkPolicy>('inside-only', 'any-target'), async (pieces, policy) => {
        const tar = tarStream(...pieces);
        const result = await judge(tar, policy);
        if (!('names' in result)) return;
        accepted++;
        const expected = result.names;
        const gnu = await gnuUnpack(tar);
        expect(gnu.status, gnu.stderr).toBe(0);
        expect(gnu.names).toEqual(expected);
        expect(gnu.outside).toEqual([]);
        // The SDK unpacks only copies ('inside-only'); 'any-target' archives (backups) are only unpacked by GNU tar.
        if (policy === 'any-target') return;
        const node = await nodeUnpack(tar, policy);
        expect(node.names).toEqual(expected);
        expect(node.outside).toEqual([]);
      }),
      { numRuns: 300, timeout: 10_000 },
    );
    // The property says something only if some archives pass.
    expect(accepted).toBeGreaterThan(20);
  }, 900_000);
});
