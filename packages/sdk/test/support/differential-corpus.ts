/**
 * Archives where tar programs are known (or could be expected) to disagree, for the
 * differential tests: for each one, either the check refuses it, or what a real unpacker
 * (GNU tar in a sandbox, GNU tar on this host, node-tar in the SDK) writes is exactly the set
 * of names the check approved, and nothing lands outside the target.
 *
 * `verdict` pins the check's decision too, so a check that refused everything (or passed
 * everything) would fail the tests. `symlinks: 'any-target'` cases (backups) may pass what
 * a copy refuses; none of these cases depends on that policy.
 */
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { ArchiveError, inspectArchive, type SymlinkPolicy } from '../../src/archive';
import { BLOCK, END, dir, file, gnuLongEntry, hardlink, paxEntry, rawEntry, symlink, tarStream } from './raw-tar';

export interface DifferentialCase {
  name: string;
  /** The uncompressed tar stream. */
  tar: Buffer;
  verdict: 'refused' | 'unpacked';
  /** For refused cases: what the refusal message says. */
  why?: RegExp;
}

const long = (word: string) => `${'deep-directory-name/'.repeat(6)}${word}-${'x'.repeat(40)}.txt`;

export function differentialCorpus(marker: string): DifferentialCase[] {
  const m = marker;
  const refused = (name: string, why: RegExp, tar: Buffer): DifferentialCase => ({ name, tar, verdict: 'refused', why });
  const unpacked = (name: string, tar: Buffer): DifferentialCase => ({ name, tar, verdict: 'unpacked' });
  return [
    // pax global headers: GNU tar renames every later entry, node-tar ignores the path.
    refused('pax global header with a path', /pax global header/, tarStream(paxEntry([['path', `global-${m}`]], 'g'), file('a.txt', 'A'), file('sub/b.txt', 'B'))),
    refused('pax global header with ../../../root/x', /pax global header/, tarStream(dir('./'), paxEntry([['path', `../../../root/${m}`]], 'g'), file('a.txt', 'A'))),
    refused('pax global header with /root/x', /pax global header/, tarStream(paxEntry([['path', `/root/${m}`]], 'g'), file('a.txt', 'A'))),
    refused('pax global header with only an mtime', /pax global header/, tarStream(paxEntry([['mtime', '1']], 'g'), file('a.txt', 'A'))),
    // Per-file pax headers.
    unpacked('pax path overriding the ustar name', tarStream(paxEntry([['path', `pax-name-${m}.txt`]]), file('ustar-name.txt', 'A'))),
    unpacked('pax size and mtime', tarStream(paxEntry([['size', '5'], ['mtime', '1700000000.5']]), file('sized.txt', '', { size: 0 }), Buffer.alloc(BLOCK).fill('B', 0, 5), file('after.txt', 'C'))),
    refused('pax path that is absolute', /absolute path/, tarStream(paxEntry([['path', `/tmp/pax-${m}`]]), file('innocent.txt', 'A'))),
    refused('pax path with ..', /'\.\.' component/, tarStream(paxEntry([['path', `../../../tmp/pax-${m}`]]), file('innocent.txt', 'A'))),
    refused('duplicate pax records', /repeats path/, tarStream(paxEntry([['path', 'one.txt'], ['path', `two-${m}.txt`]]), file('ustar.txt', 'A'))),
    refused('two pax headers for one entry', /two pax extended headers/, tarStream(paxEntry([['path', `first-${m}.txt`]]), paxEntry([['mtime', '1']]), file('ustar.txt', 'A'))),
    refused('pax path with a NUL byte', /NUL/, tarStream(paxEntry([['path', `a\0${m}`]]), file('ustar.txt', 'A'))),
    refused('pax path with a line break', /line break/, tarStream(paxEntry([['path', `a\n${m}`]]), file('ustar.txt', 'A'))),
    refused('unknown pax keyword', /pax keyword/, tarStream(paxEntry([['VENDOR.rename', `x-${m}`]]), file('ustar.txt', 'A'))),
    refused('hdrcharset', /pax keyword hdrcharset/, tarStream(paxEntry([['hdrcharset', 'BINARY']]), file('ustar.txt', 'A'))),
    refused('GNU sparse pax records', /sparse/, tarStream(paxEntry([['GNU.sparse.name', `sparse-${m}`], ['GNU.sparse.major', '1']]), file('ustar.txt', 'A'))),
    unpacked('extended attributes (ignored by both)', tarStream(paxEntry([['SCHILY.xattr.user.note', 'hello']]), file(`xattr-${m}.txt`, 'A'))),
    // GNU long names and links.
    unpacked('GNU long name', tarStream(gnuLongEntry('L', long(m)), file('short', 'A'))),
    unpacked('GNU long link of a symbolic link', tarStream(gnuLongEntry('L', long(`target-${m}`)), file('placeholder', 'A'), gnuLongEntry('K', long(`target-${m}`)), symlink('link', 'short-target'))),
    refused('GNU long name, then a pax path', /both a GNU long name .* and a pax path/, tarStream(gnuLongEntry('L', `from-long-${m}`), paxEntry([['path', `from-pax-${m}`]]), file('ustar.txt', 'A'))),
    refused('pax path, then a GNU long name', /both a GNU long name .* and a pax path/, tarStream(paxEntry([['path', `from-pax-${m}`]]), gnuLongEntry('L', `from-long-${m}`), file('ustar.txt', 'A'))),
    unpacked('GNU long name, then a pax mtime', tarStream(gnuLongEntry('L', `long-then-pax-${m}`), paxEntry([['mtime', '1']]), file('ustar.txt', 'A'))),
    refused('two GNU long names', /two GNU long names/, tarStream(gnuLongEntry('L', `first-${m}`), gnuLongEntry('L', `second-${m}`), file('ustar.txt', 'A'))),
    refused('empty GNU long name', /empty GNU long name/, tarStream(rawEntry({ name: '././@LongLink', typeflag: 'L', magic: 'gnu' }), file('ustar.txt', 'A'))),
    refused('GNU long name with ..', /'\.\.' component/, tarStream(gnuLongEntry('L', `../../../tmp/long-${m}`), file('short', 'A'))),
    refused('GNU long link on a regular file', /not a link/, tarStream(gnuLongEntry('K', 'somewhere'), file(`file-${m}`, 'A'))),
    // Names in the header itself.
    unpacked('ustar prefix', tarStream(file(`name-${m}.txt`, 'A', { prefix: `prefix-${m}` }))),
    unpacked('GNU header ignores the prefix field', tarStream(file(`gnu-${m}.txt`, 'A', { magic: 'gnu', prefix: 'not-a-prefix' }))),
    refused('ustar magic with another version', /unknown format/, tarStream(file(`name-${m}.txt`, 'A', { magic: 'ustar\u0000xx', prefix: 'pre' }))),
    unpacked('NUL inside the name field', tarStream(file(`cut-${m}\0-hidden`, 'A'))),
    refused('NUL then a line break inside the name field', /read this archive differently/, tarStream(file(`cut-${m}\0\nhidden`, 'A'))),
    unpacked('UTF-8 name', tarStream(file(`déjà-vu-${m}-😀.txt`, 'A'))),
    unpacked('old-style regular file (type NUL)', tarStream(rawEntry({ name: `old-${m}.txt`, typeflag: '\0' }, 'A'))),
    unpacked('regular file with a trailing slash is a directory', tarStream(rawEntry({ name: `dir-${m}/`, typeflag: '0' }), file(`dir-${m}/inside.txt`, 'A'))),
    refused('contiguous file with a trailing slash', /read this archive differently/, tarStream(rawEntry({ name: `cont-${m}/`, typeflag: '7' }), file(`cont-${m}/x`, 'A'))),
    refused('absolute name', /absolute path/, tarStream(file(`/tmp/abs-${m}`, 'A'))),
    refused('.. name', /'\.\.' component/, tarStream(file(`../../../../tmp/dotdot-${m}`, 'A'))),
    refused('a name with an empty component (node-tar hangs on a symbolic link named so)', /empty component/, tarStream(symlink(`dir-${m}//link`, 'x'))),
    refused('entry without a name', /no name/, tarStream(rawEntry({ name: '', typeflag: '0' }, 'A'))),
    // Links.
    refused('symbolic link, then a file through it', /through the symbolic link/, tarStream(symlink('through', '/tmp'), file(`through/${m}`, 'A'))),
    refused('symbolic link whose target read from the top contains the link (node-tar hangs on it)', /never finishes/, tarStream(symlink(`loop-${m}/c`, `loop-${m}`))),
    unpacked('symbolic link inside the tree', tarStream(file(`real-${m}.txt`, 'A'), symlink(`alias-${m}`, `real-${m}.txt`))),
    refused('hard link to /etc/passwd', /absolute path/, tarStream(hardlink(`passwd-${m}`, '/etc/passwd'))),
    refused('hard link out with ..', /'\.\.' component/, tarStream(hardlink(`passwd-${m}`, '../../../../etc/passwd'))),
    unpacked('hard link to an earlier file', tarStream(file(`first-${m}.txt`, 'A'), hardlink(`second-${m}.txt`, `first-${m}.txt`))),
    refused('hard link with contents (a smuggled entry GNU tar would unpack)', /hard link\) declares/, tarStream(file('a', 'A'), rawEntry({ name: 'h', typeflag: '1', linkname: 'a' }, file(`smuggled-${m}`, 'S')), file('after', 'B'))),
    refused('symbolic link with contents', /symbolic link\) declares/, tarStream(rawEntry({ name: 's', typeflag: '2', linkname: 'a' }, file(`smuggled-${m}`, 'S')))),
    refused('directory with contents', /directory\) declares/, tarStream(rawEntry({ name: 'd', typeflag: '5' }, file(`smuggled-${m}`, 'S')))),
    // Other types.
    refused('character device', /character device/, tarStream(rawEntry({ name: `null-${m}`, typeflag: '3' }))),
    refused('block device', /block device/, tarStream(rawEntry({ name: `sda-${m}`, typeflag: '4' }))),
    refused('fifo', /fifo/, tarStream(rawEntry({ name: `pipe-${m}`, typeflag: '6' }))),
    refused('unknown type (GNU tar would unpack it as a file)', /unsupported type/, tarStream(rawEntry({ name: `unknown-${m}`, typeflag: 'Z' }, 'A'))),
    refused('GNU sparse file', /unsupported type \(GNU sparse/, tarStream(rawEntry({ name: `sparse-${m}`, typeflag: 'S' }))),
    refused('Solaris extended header', /Solaris/, tarStream(rawEntry({ name: 'X', typeflag: 'X' }), file('x.txt', 'A'))),
    // Framing.
    refused('a lone zero block, then more entries', /lone zero block/, Buffer.concat([file('a', 'A'), Buffer.alloc(BLOCK), file(`after-zero-${m}`, 'B'), END])),
    refused('a mode that is not a number', /mode field is not a number/, tarStream(file(`mode-${m}`, 'A', { mode: 'zz\0' }))),
    refused('a size with a leading NUL', /size field is not a number/, tarStream(file(`size-${m}`, 'A', { size: '\u00000000000001\0' }))),
    refused('a pax record length with a leading zero', /does not start with its length/, tarStream(rawEntry({ name: 'P', typeflag: 'x' }, `017 path=lead-${m}\n`), file('f', 'A'))),
    refused('a bad checksum', /bad checksum/, tarStream(file(`sum-${m}`, 'A', { checksum: '0000000\0' }))),
  ];
}

/**
 * The names an unpacker must have written for these approved entry paths: each path
 * normalised (`./a//b/` → `a/b`) plus every directory above it, the target itself left out.
 * Sorted, so two trees compare as arrays.
 */
export function expectedNames(approved: string[]): string[] {
  const names = new Set<string>();
  for (const p of approved) {
    const parts = p.split('/').filter((s) => s !== '' && s !== '.');
    for (let i = 1; i <= parts.length; i++) names.add(parts.slice(0, i).join('/'));
  }
  return [...names].sort();
}

/**
 * What the check (the same `inspectArchive` the server and the SDK run) decides about a tar
 * stream: the names an unpacker must then write ({@link expectedNames}), or the refusal.
 */
export async function judge(tar: Buffer, symlinks: SymlinkPolicy = 'inside-only'): Promise<{ names: string[] } | { refused: ArchiveError }> {
  const approved: string[] = [];
  try {
    await inspectArchive(Readable.from([zlib.gzipSync(tar)]), { symlinks, onEntry: (e) => approved.push(e.path) });
    return { names: expectedNames(approved) };
  } catch (err) {
    if (err instanceof ArchiveError) return { refused: err };
    throw err;
  }
}
