/**
 * Tar headers read the way GNU tar reads them (1.34, the `tar` of every built-in base), block
 * by block, for everything that decides what an entry becomes on disk: its name, its type, its
 * link target and where the next header starts.
 *
 * Why not just node-tar: the server checks an archive in Node and then GNU tar unpacks it
 * inside the sandbox (the SDK unpacks with node-tar). Readers differ exactly where attacks
 * live: GNU tar applies a pax *global* header's `path` to every later entry, lets a pax `path`
 * win over a GNU long name whatever their order, replaces (node-tar merges) a second pax
 * header, reads no contents after a hard or symbolic link whatever its size says, stops at a
 * lone zero block, and treats a ustar `prefix` differently. So this reader models GNU tar and
 * refuses what it does not model; `inspectArchive` then requires node-tar to read the very
 * same entries, so whichever program unpacks, it unpacks what was checked.
 *
 * Refused here (with the reason in the message): pax global headers (`g`), Solaris extended
 * headers (`X`), pax records that are malformed, repeated, not UTF-8, contain a line break or
 * NUL, or use a keyword outside {@link PAX_KEYWORDS}; two pax headers, two long names or two
 * long links for one entry; a GNU long name together with a pax `path` (or long link with pax
 * `linkpath`); empty names; contents on anything but a regular file; link targets on
 * anything but a link; devices, fifos and every type but file, directory, link and symbolic
 * link; non-canonical numeric fields, bad checksums, unknown header formats; a lone zero block
 * followed by more entries; metadata entries over 1 MiB.
 */
import { ArchiveError, unsafe } from './archive-error';

export type EntryKind = 'file' | 'directory' | 'symlink' | 'hardlink';

/** One entry as GNU tar will unpack it (before any safety rule is applied). */
export interface TarEntry {
  /** The name, trailing slashes removed (as GNU tar does). */
  path: string;
  kind: EntryKind;
  /** Bytes of contents after the header; only files have any. */
  size: number;
  /** The target of a link; undefined otherwise. */
  linkpath?: string;
}

const BLOCK = 512;
/** node-tar ignores metadata entries larger than this; GNU tar would not, so they are refused. */
const MAX_META_BYTES = 1024 * 1024;
const MAX_ID = 2 ** 32 - 1;

/** The pax keywords both readers understand the same way (or both ignore). */
const PAX_KEYWORDS = new Set(['path', 'linkpath', 'size', 'mtime', 'atime', 'ctime', 'uid', 'gid', 'uname', 'gname', 'comment', 'charset', 'SCHILY.dev', 'SCHILY.ino', 'SCHILY.nlink', 'LIBARCHIVE.creationtime']);
/** Extended attributes: both readers ignore them (the sandbox's tar runs with --no-xattrs). */
const PAX_IGNORED_PREFIXES = ['SCHILY.xattr.', 'LIBARCHIVE.xattr.'];

const TYPE_NAMES: Record<string, string> = {
  '3': 'a character device',
  '4': 'a block device',
  '6': 'a fifo',
};
const UNSUPPORTED_TYPES: Record<string, string> = {
  S: 'GNU sparse file',
  M: 'GNU multi-volume continuation',
  V: 'GNU volume label',
  D: 'GNU incremental directory',
  N: 'GNU old long names',
  A: 'Solaris ACL',
  E: 'Solaris extended attributes',
  I: 'inode metadata',
};

interface PaxFields {
  path?: string;
  linkpath?: string;
  size?: number;
}

/** What the metadata headers before an entry said (GNU tar keeps these until the next entry). */
interface Pending {
  longName?: string;
  longLink?: string;
  pax?: PaxFields;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Push parser: `write` the decompressed tar stream in chunks of any size, `end` after the
 * last. Calls `onEntry` for every entry GNU tar would unpack, in order; throws an
 * {@link ArchiveError} as soon as something is refused.
 */
export class GnuTarReader {
  private partial = Buffer.alloc(0);
  /** Bytes still to skip: an entry's contents and padding. */
  private skip = 0;
  private meta: { typeflag: string; size: number; chunks: Buffer[]; left: number } | undefined;
  private pending: Pending = {};
  private zeroBlocks = 0;
  private done = false;

  constructor(private readonly onEntry: (entry: TarEntry) => void) {}

  /** True once the end-of-archive blocks were read; GNU tar reads nothing after them. */
  get finished(): boolean {
    return this.done;
  }

  /** Reads a chunk; returns how many of its bytes belong to the archive (none after the end-of-archive blocks). */
  write(chunk: Buffer): number {
    let at = 0;
    while (at < chunk.length && !this.done) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        this.skip -= n;
        at += n;
      } else if (this.meta && this.meta.left > 0) {
        const n = Math.min(this.meta.left, chunk.length - at);
        this.meta.chunks.push(chunk.subarray(at, at + n));
        this.meta.left -= n;
        at += n;
        if (this.meta.left === 0) this.finishMeta();
      } else {
        const n = Math.min(BLOCK - this.partial.length, chunk.length - at);
        this.partial = Buffer.concat([this.partial, chunk.subarray(at, at + n)]);
        at += n;
        if (this.partial.length === BLOCK) {
          const block = this.partial;
          this.partial = Buffer.alloc(0);
          this.header(block);
        }
      }
    }
    return at;
  }

  /** The stream ended: it must not end inside a header or an entry. */
  end(): void {
    if (this.done) return;
    if (this.partial.length > 0 || this.skip > 0 || this.meta) throw new ArchiveError('invalid', 'not a valid tar archive: it ends in the middle of an entry');
  }

  private header(block: Buffer): void {
    if (block.every((b) => b === 0)) {
      if (++this.zeroBlocks === 2) this.done = true;
      return;
    }
    if (this.zeroBlocks > 0) {
      throw unsafe('the archive has more entries after a lone zero block (GNU tar stops reading there, other readers do not)');
    }
    checkChecksum(block);
    const typeflag = String.fromCharCode(block[156]!);
    const size = numberField(block, 124, 12, 'size', { base256: true });
    switch (typeflag) {
      case 'g':
        throw unsafe('the archive has a pax global header, which GNU tar applies to every later entry (its path renames them all); refused');
      case 'X':
        throw unsafe('the archive has a Solaris extended header (type X), which is not supported');
      case 'x':
      case 'L':
      case 'K':
        this.startMeta(typeflag, size);
        return;
      default:
        this.entry(block, typeflag, size);
    }
  }

  private startMeta(typeflag: string, size: number): void {
    const what = META_NAMES[typeflag]!;
    const already = typeflag === 'x' ? this.pending.pax : typeflag === 'L' ? this.pending.longName : this.pending.longLink;
    if (already !== undefined) throw unsafe(`the archive has two ${what}s for one entry (tar programs disagree on which applies)`);
    if (size > MAX_META_BYTES) throw unsafe(`the archive has a ${what} larger than 1 MiB`);
    if (size === 0 && typeflag !== 'x') throw unsafe(`the archive has an empty ${what}`);
    this.meta = { typeflag, size, chunks: [], left: size };
    if (size === 0) this.finishMeta();
  }

  private finishMeta(): void {
    const { typeflag, size, chunks } = this.meta!;
    this.meta = undefined;
    this.skip = roundUp(size) - size; // the padding after the metadata
    const body = Buffer.concat(chunks);
    if (typeflag === 'x') {
      this.pending.pax = parsePax(body);
      return;
    }
    // GNU tar reads a long name up to its first NUL.
    const end = body.indexOf(0);
    const value = body.subarray(0, end === -1 ? body.length : end).toString('utf8');
    if (value === '') throw unsafe(`the archive has an empty ${META_NAMES[typeflag]}`);
    if (typeflag === 'L') this.pending.longName = value;
    else this.pending.longLink = value;
  }

  private entry(block: Buffer, typeflag: string, headerSize: number): void {
    const format = formatOf(block);
    numberField(block, 100, 8, 'mode', { base256: false });
    numberField(block, 108, 8, 'uid', { base256: true });
    numberField(block, 116, 8, 'gid', { base256: true });
    numberField(block, 136, 12, 'mtime', { base256: true, negative: true });

    const { longName, longLink, pax = {} } = this.pending;
    this.pending = {};
    if (longName !== undefined && pax.path !== undefined) {
      throw unsafe(`an entry has both a GNU long name (${JSON.stringify(longName)}) and a pax path (${JSON.stringify(pax.path)}); tar programs disagree on which wins`, pax.path);
    }
    if (longLink !== undefined && pax.linkpath !== undefined) {
      throw unsafe(`an entry has both a GNU long link (${JSON.stringify(longLink)}) and a pax linkpath (${JSON.stringify(pax.linkpath)}); tar programs disagree on which wins`, pax.linkpath);
    }

    // A ustar prefix counts only in POSIX headers (GNU headers keep other data there).
    const prefix = format === 'posix' ? textField(block, 345, 155) : '';
    const name = pax.path ?? longName ?? (prefix ? `${prefix}/${textField(block, 0, 100)}` : textField(block, 0, 100));
    const linkpath = pax.linkpath ?? longLink ?? textField(block, 157, 100);
    const size = pax.size ?? headerSize;
    const path = stripTrailingSlashes(name);
    if (path === '') throw unsafe('an entry has no name (GNU tar would substitute ".")');
    const shown = JSON.stringify(name);

    let kind: EntryKind;
    if (typeflag === '0' || typeflag === '\0' || typeflag === '7') kind = path !== name ? 'directory' : 'file';
    else if (typeflag === '5') kind = 'directory';
    else if (typeflag === '2') kind = 'symlink';
    else if (typeflag === '1') kind = 'hardlink';
    else if (TYPE_NAMES[typeflag]) throw unsafe(`entry ${shown} is ${TYPE_NAMES[typeflag]}`, name);
    else throw unsafe(`entry ${shown} has an unsupported type (${UNSUPPORTED_TYPES[typeflag] ?? `type flag ${JSON.stringify(typeflag)}`})`, name);

    if (kind !== 'file' && size !== 0) {
      // GNU tar reads no contents after a link or a directory, whatever the size says; others do.
      throw unsafe(`entry ${shown} (a ${KIND_NAMES[kind]}) declares ${size} bytes of contents, which only files may have`, name);
    }
    const isLink = kind === 'symlink' || kind === 'hardlink';
    if (isLink && linkpath === '') throw unsafe(`${KIND_NAMES[kind]} ${shown} has no target`, name);
    if (!isLink && linkpath !== '') throw unsafe(`entry ${shown} is not a link but names a link target (${JSON.stringify(linkpath)})`, name);

    this.skip = roundUp(size);
    this.onEntry({ path, kind, size, ...(isLink ? { linkpath } : {}) });
  }
}

const META_NAMES: Record<string, string> = { x: 'pax extended header', L: 'GNU long name', K: 'GNU long link' };
const KIND_NAMES: Record<EntryKind, string> = { file: 'file', directory: 'directory', symlink: 'symbolic link', hardlink: 'hard link' };

/** Contents take whole blocks. */
function roundUp(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

/** GNU tar's strip_trailing_slashes: `a/b//` → `a/b`, but `/` stays `/`. */
function stripTrailingSlashes(name: string): string {
  const stripped = name.replace(/\/+$/, '');
  return stripped === '' && name.startsWith('/') ? '/' : stripped;
}

/** A NUL-terminated text field (GNU tar stops at the first NUL), decoded as node-tar decodes it. */
function textField(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

function formatOf(block: Buffer): 'posix' | 'gnu' | 'v7' {
  const magic = block.toString('latin1', 257, 265);
  if (magic === 'ustar\u000000') return 'posix';
  if (magic === 'ustar  \u0000') return 'gnu';
  if (magic === '\0'.repeat(8)) return 'v7';
  throw unsafe(`an entry header has an unknown format (magic ${JSON.stringify(magic)})`);
}

/**
 * A numeric field in a form every reader parses alike: octal digits after optional spaces,
 * ended by spaces or NULs (or all NULs, meaning 0), or GNU base-256 when allowed. GNU tar
 * fails on other forms (exit 2 after unpacking) and node-tar guesses, so they are refused.
 */
function numberField(block: Buffer, offset: number, length: number, what: string, opts: { base256: boolean; negative?: boolean }): number {
  const field = block.subarray(offset, offset + length);
  if (opts.base256 && (field[0] === 0x80 || (opts.negative && field[0] === 0xff))) {
    if (field[0] === 0xff) return -1; // a time before 1970: both readers accept it, and it decides nothing here
    let value = 0;
    for (const byte of field.subarray(1)) value = value * 256 + byte;
    if (!Number.isSafeInteger(value)) throw unsafe(`an entry header's ${what} is too large`);
    return value;
  }
  const text = field.toString('latin1');
  if (/^\0*$/.test(text)) return 0;
  const match = /^ *([0-7]+)[ \0]*$/.exec(text);
  if (!match) throw unsafe(`an entry header's ${what} field is not a number (${JSON.stringify(text.replace(/\0+$/, ''))})`);
  return parseInt(match[1]!, 8);
}

function checkChecksum(block: Buffer): void {
  const stored = numberField(block, 148, 8, 'checksum', { base256: false });
  let sum = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += block[i]!;
  if (stored !== sum) throw new ArchiveError('invalid', 'not a valid tar archive: an entry header has a bad checksum');
}

/**
 * pax records `<length> <keyword>=<value>\n`, read strictly: node-tar splits on line breaks
 * and GNU tar does not, so a value with a line break (or any malformed record) could mean
 * two different things and is refused.
 */
function parsePax(body: Buffer): PaxFields {
  const fields: PaxFields = {};
  const seen = new Set<string>();
  let at = 0;
  while (at < body.length) {
    // Both readers stop quietly at NUL padding after the last record.
    if (body.subarray(at).every((b) => b === 0)) break;
    const space = body.indexOf(0x20, at);
    const lengthText = space === -1 ? '' : body.toString('latin1', at, space);
    if (!/^[1-9][0-9]{0,7}$/.test(lengthText)) throw unsafe('a pax header record does not start with its length');
    const end = at + Number(lengthText);
    if (end > body.length || body[end - 1] !== 0x0a || end <= space + 1) throw unsafe('a pax header record has the wrong length');
    const record = body.subarray(space + 1, end - 1);
    const eq = record.indexOf(0x3d);
    const keyword = eq === -1 ? '' : record.toString('latin1', 0, eq);
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(keyword)) throw unsafe('a pax header record has no valid keyword');
    const raw = record.subarray(eq + 1);
    if (raw.includes(0x0a) || raw.includes(0)) throw unsafe(`the pax record ${keyword} contains a line break or NUL byte`);
    let value: string;
    try {
      value = utf8.decode(raw);
    } catch {
      throw unsafe(`the pax record ${keyword} is not valid UTF-8`);
    }
    if (seen.has(keyword)) throw unsafe(`the pax header repeats ${keyword} (tar programs disagree on which applies)`);
    seen.add(keyword);
    applyPax(fields, keyword, value);
    at = end;
  }
  return fields;
}

function applyPax(fields: PaxFields, keyword: string, value: string): void {
  const invalid = () => unsafe(`the pax record ${keyword}=${JSON.stringify(value.slice(0, 80))} is not valid`);
  switch (keyword) {
    case 'path':
    case 'linkpath':
      if (value === '') throw invalid();
      fields[keyword] = value;
      return;
    case 'size':
      if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) throw invalid();
      fields.size = Number(value);
      return;
    case 'uid':
    case 'gid':
      // GNU tar refuses ids beyond uid_t.
      if (!/^[0-9]+$/.test(value) || Number(value) > MAX_ID) throw invalid();
      return;
    case 'SCHILY.dev':
    case 'SCHILY.ino':
    case 'SCHILY.nlink':
      if (!/^[0-9]+$/.test(value)) throw invalid();
      return;
    case 'mtime':
    case 'atime':
    case 'ctime':
    case 'LIBARCHIVE.creationtime':
      if (!/^-?[0-9]{1,15}(\.[0-9]{1,9})?$/.test(value)) throw invalid();
      return;
  }
  if (PAX_KEYWORDS.has(keyword) || PAX_IGNORED_PREFIXES.some((p) => keyword.startsWith(p))) return;
  if (keyword.startsWith('GNU.sparse.')) throw unsafe('the archive contains GNU sparse files, which are not supported');
  throw unsafe(`the archive uses the pax keyword ${keyword}, which is not supported`);
}
