/**
 * A corpus of hostile tar+gzip archives, built byte by byte (no real files are needed to make
 * them, and nothing is ever unpacked here). Each case says why it must be refused (a pattern
 * the refusal message must match) and which absolute paths it aims at, so a test can check
 * that they were not created. Used by the server's and the SDK's copy tests.
 */
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import zlib from 'node:zlib';
import * as tar from 'tar';

export interface HostileArchive {
  name: string;
  file: string;
  /** What the refusal message must say. */
  why: RegExp;
  /** Absolute paths the archive tries to create (inside a sandbox, or on a client's host). */
  targets: string[];
}

export interface CorpusOptions {
  /** A unique word put in every name the archives try to create. */
  marker: string;
  /** The limit the receiver enforces on entries; the entry-count case goes above it. */
  maxEntries: number;
  /** The limit on unpacked bytes the receiver enforces; the bombs go far above it (to 2 GiB). */
  maxUnpackedBytes: number;
}

type Entry =
  | { type: 'File'; path: string; body?: Buffer }
  | { type: 'Directory' | 'FIFO'; path: string }
  | { type: 'SymbolicLink' | 'Link'; path: string; linkpath: string }
  | { type: 'CharacterDevice' | 'BlockDevice'; path: string; major: number; minor: number }
  | { type: 'SparseFile'; path: string }
  | { type: 'pax'; records: Record<string, string> }
  | { type: 'longPath'; name: string };

const BLOCK = 512;

function headerBlock(data: tar.HeaderData): Buffer {
  const block = Buffer.alloc(BLOCK);
  new tar.Header({ mode: 0o644, uid: 0, gid: 0, mtime: new Date(0), uname: '', gname: '', size: 0, ...data }).encode(block, 0);
  return block;
}

function padded(body: Buffer): Buffer {
  const rest = body.length % BLOCK;
  return rest === 0 ? body : Buffer.concat([body, Buffer.alloc(BLOCK - rest)]);
}

function paxBody(records: Record<string, string>): Buffer {
  let text = '';
  for (const [key, value] of Object.entries(records)) {
    const line = ` ${key}=${value}\n`;
    // The length counts itself: find the fixed point.
    let len = line.length + 1;
    while (String(len).length + line.length !== len) len = String(len).length + line.length;
    text += `${len}${line}`;
  }
  return Buffer.from(text);
}

/** A tar stream (uncompressed) of these entries, with the end-of-archive blocks. */
export function tarOf(entries: Entry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    switch (e.type) {
      case 'File': {
        const body = e.body ?? Buffer.alloc(0);
        parts.push(headerBlock({ path: e.path, type: 'File', size: body.length }), padded(body));
        break;
      }
      case 'Directory':
      case 'FIFO':
      case 'SparseFile':
        parts.push(headerBlock({ path: e.path, type: e.type, mode: 0o755 }));
        break;
      case 'SymbolicLink':
      case 'Link':
        parts.push(headerBlock({ path: e.path, type: e.type, linkpath: e.linkpath }));
        break;
      case 'CharacterDevice':
      case 'BlockDevice':
        parts.push(headerBlock({ path: e.path, type: e.type, devmaj: e.major, devmin: e.minor }));
        break;
      case 'pax': {
        const body = paxBody(e.records);
        parts.push(headerBlock({ path: 'PaxHeader/x', type: 'ExtendedHeader', size: body.length }), padded(body));
        break;
      }
      case 'longPath': {
        const body = Buffer.from(`${e.name}\0`);
        parts.push(headerBlock({ path: '././@LongLink', type: 'NextFileHasLongPath', size: body.length }), padded(body));
        break;
      }
    }
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

/** A small, harmless archive (for round trips and as a base for the corpus). */
export function gzipOf(entries: Entry[]): Buffer {
  return zlib.gzipSync(tarOf(entries));
}

/**
 * Writes a gzip bomb: `prefix` (a tar stream) then `zeroBytes` of zeros, as concatenated gzip
 * members of 1 MiB of zeros each (~1 KiB compressed), so 2 GiB costs ~2 MiB on disk and no
 * memory to make. gzip readers decompress every member in turn.
 */
async function writeBomb(file: string, prefix: Buffer, zeroBytes: number): Promise<void> {
  const out = createWriteStream(file);
  const mib = 1024 * 1024;
  const zeros = zlib.gzipSync(Buffer.alloc(mib), { level: 9 });
  out.write(zlib.gzipSync(prefix));
  for (let left = zeroBytes; left > 0; left -= mib) {
    const chunk = left >= mib ? zeros : zlib.gzipSync(Buffer.alloc(left), { level: 9 });
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
}

/** Builds every case into `dir` (`case-<n>.tar.gz`). */
export async function buildHostileCorpus(dir: string, opts: CorpusOptions): Promise<HostileArchive[]> {
  const m = opts.marker;
  const escapee = `/tmp/pocketenv-escape-${m}`;
  const inEtc = `/etc/pocketenv-${m}`;
  const twoGiB = 2 * 1024 * 1024 * 1024;
  if (opts.maxUnpackedBytes >= twoGiB) throw new Error('the bombs are 2 GiB: give a smaller maxUnpackedBytes');
  const payload = Buffer.from('pwned\n');

  const cases: Array<{ name: string; why: RegExp; targets: string[]; entries?: Entry[]; bomb?: { prefix: Entry[]; declared?: number; zeros: number }; raw?: Buffer }> = [
    { name: 'absolute path', why: /absolute path/, targets: [escapee], entries: [{ type: 'File', path: escapee, body: payload }] },
    { name: "'..' path", why: /'\.\.' component/, targets: [escapee], entries: [{ type: 'File', path: `../../../../../../..${escapee}`, body: payload }] },
    { name: "'..' in the middle", why: /'\.\.' component/, targets: [escapee], entries: [{ type: 'Directory', path: 'a/' }, { type: 'File', path: `a/../../../../../../..${escapee}`, body: payload }] },
    {
      name: 'symlink to /etc, then a file through it',
      why: /symbolic link/,
      targets: [inEtc],
      entries: [
        { type: 'SymbolicLink', path: 'etc', linkpath: '/etc' },
        { type: 'File', path: `etc/pocketenv-${m}`, body: payload },
      ],
    },
    {
      name: 'relative symlink out of the tree, then a file through it',
      why: /symbolic link/,
      targets: [escapee],
      entries: [
        { type: 'SymbolicLink', path: 'up', linkpath: '../../../../../../../..' },
        { type: 'File', path: `up/tmp/pocketenv-escape-${m}`, body: payload },
      ],
    },
    { name: 'symlink pointing outside', why: /points outside/, targets: [], entries: [{ type: 'SymbolicLink', path: 'passwd', linkpath: '/etc/passwd' }] },
    {
      name: 'chained symlinks that leave the tree',
      why: /points outside/,
      targets: [],
      entries: [
        { type: 'Directory', path: 'd/' },
        { type: 'SymbolicLink', path: 'd/s', linkpath: '..' },
        { type: 'SymbolicLink', path: 'a', linkpath: 'd/s/..' },
      ],
    },
    { name: 'hard link to /etc/passwd', why: /absolute path/, targets: [], entries: [{ type: 'Link', path: 'passwd', linkpath: '/etc/passwd' }] },
    { name: "hard link with '..'", why: /'\.\.' component/, targets: [], entries: [{ type: 'Link', path: 'passwd', linkpath: '../../../../../../etc/passwd' }] },
    { name: 'hard link to a later entry', why: /not an earlier file/, targets: [], entries: [{ type: 'Link', path: 'early', linkpath: 'late' }, { type: 'File', path: 'late', body: payload }] },
    { name: 'character device', why: /character device/, targets: [], entries: [{ type: 'CharacterDevice', path: `null-${m}`, major: 1, minor: 3 }] },
    { name: 'block device', why: /block device/, targets: [], entries: [{ type: 'BlockDevice', path: `sda-${m}`, major: 8, minor: 0 }] },
    { name: 'fifo', why: /fifo/, targets: [], entries: [{ type: 'FIFO', path: `pipe-${m}` }] },
    {
      name: 'pax header renaming an entry to an absolute path',
      why: /absolute path/,
      targets: [escapee],
      entries: [{ type: 'pax', records: { path: escapee } }, { type: 'File', path: 'innocent.txt', body: payload }],
    },
    {
      name: "GNU long name with '..'",
      why: /'\.\.' component/,
      targets: [escapee],
      entries: [{ type: 'longPath', name: `../../../../../../..${escapee}` }, { type: 'File', path: 'short', body: payload }],
    },
    { name: 'unsupported entry type (GNU sparse)', why: /unsupported type/, targets: [], entries: [{ type: 'SparseFile', path: `sparse-${m}` }] },
    {
      name: 'gzip bomb: one 2 GiB file',
      why: /unpacks to more than/,
      targets: [],
      bomb: { prefix: [], declared: twoGiB, zeros: twoGiB },
    },
    {
      name: 'gzip bomb: 2 GiB of zeros after the end of the archive',
      why: /unpacks to more than/,
      targets: [],
      bomb: { prefix: [{ type: 'File', path: 'small.txt', body: payload }], zeros: twoGiB },
    },
    {
      name: 'too many entries',
      why: /more than \d+ entries/,
      targets: [],
      entries: Array.from({ length: opts.maxEntries + 50 }, (_, i) => ({ type: 'File' as const, path: `f${i}` })),
    },
    { name: 'not a gzip stream', why: /not a valid gzip stream/, targets: [], raw: Buffer.from(`this is not an archive ${m}\n`.repeat(20)) },
  ];

  const out: HostileArchive[] = [];
  for (const [i, c] of cases.entries()) {
    const file = path.join(dir, `case-${i}.tar.gz`);
    if (c.bomb) {
      // The 2 GiB file's header alone (its contents are the zeros that follow).
      const prefix = c.bomb.declared !== undefined
        ? headerBlock({ path: `zeros-${m}`, type: 'File', size: c.bomb.declared })
        : tarOf(c.bomb.prefix);
      await writeBomb(file, prefix, c.bomb.zeros);
    } else if (c.raw) {
      await writeFile(file, c.raw);
    } else {
      await writeFile(file, gzipOf(c.entries!));
    }
    out.push({ name: c.name, file, why: c.why, targets: c.targets });
  }
  return out;
}
