/**
 * tar+gzip archives as the copy store and backups move them: packing a local path, checking
 * an archive before anything is unpacked, and unpacking it into a directory.
 *
 * Archives are untrusted in both directions (a client may upload anything; a sandbox's own
 * `tar` may be replaced by anything; a server may answer anything), so {@link inspectArchive}
 * reads the whole archive first and refuses it when any entry could write outside the target
 * directory or when it is too big. Nothing is unpacked until it has passed. The server uses
 * the same checks (`@pocketenv/sdk/archive`) before it unpacks into a sandbox.
 *
 * The check reads the archive twice, in one pass: as GNU tar reads it (`archive-headers.ts`;
 * the server unpacks with GNU tar inside the sandbox) and with node-tar (which this module
 * unpacks with). Both must see exactly the same entries — names, types, link targets, sizes,
 * in order — or the archive is refused as ambiguous, so the entries checked are the entries
 * unpacked, whichever program unpacks.
 *
 * Refused: absolute paths, `..` components, device files, fifos and every other special or
 * vendor-specific entry type, hard links to anything but an earlier regular file of the same
 * archive, entries that would be written through a symbolic link of the archive, symbolic
 * links that resolve outside the archive (unless `symlinks: 'any-target'`), headers the two
 * readers could read differently (pax global headers, unknown pax keywords, a GNU long name
 * plus a pax path… see `archive-headers.ts`), archives larger than `maxArchiveBytes`
 * compressed or `maxUnpackedBytes` decompressed (counted on the decompressed stream, so a gzip
 * bomb is stopped as soon as it passes the limit), and more than `maxEntries` entries.
 * @module
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import type * as Tar from 'tar';
import { type Env, settingsFrom } from '@pocketenv/config';
import { ArchiveError, unsafe } from './archive-error';
import { GnuTarReader, type TarEntry } from './archive-headers';

export { ArchiveError } from './archive-error';
export type { EntryKind, TarEntry } from './archive-headers';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** How much an archive may hold. */
export interface ArchiveLimits {
  /** Largest archive, compressed, in bytes. */
  maxArchiveBytes: number;
  /** Largest archive once decompressed (the tar stream: headers and contents), in bytes. */
  maxUnpackedBytes: number;
  /** Most entries (files, directories, links) in one archive. */
  maxEntries: number;
}

/** The defaults of both the SDK and the server (the server reads POCKETENV_COPY_MAX_* to change its own). */
export const DEFAULT_ARCHIVE_LIMITS: Readonly<ArchiveLimits> = Object.freeze({
  maxArchiveBytes: 512 * MiB,
  maxUnpackedBytes: 4 * GiB,
  maxEntries: 500_000,
});

/** Deeper paths than this are refused (node-tar refuses them too). */
const MAX_DEPTH = 1024;
/** How many symbolic links one resolution may follow before it is called a loop. */
const MAX_SYMLINK_HOPS = 40;

/**
 * `inside-only`: a symbolic link must resolve inside the archive (copies, which may land on a
 * client's disk). `any-target`: a link may point anywhere (backups, which are only ever
 * unpacked inside a sandbox, so `venv/bin/python -> /usr/bin/python3` survives a round trip);
 * nothing may still be written *through* a link either way.
 */
export type SymlinkPolicy = 'inside-only' | 'any-target';

export interface InspectOptions extends Partial<ArchiveLimits> {
  /** @default 'inside-only' */
  symlinks?: SymlinkPolicy;
  /** Called with the compressed bytes read so far. */
  onBytes?: (bytes: number) => void;
  /** Called with every entry as it passes its checks (the archive may still be refused later). */
  onEntry?: (entry: TarEntry) => void;
}

/** What an archive that passed holds. */
export interface ArchiveSummary {
  entries: number;
  /** Compressed size. */
  archiveBytes: number;
  /** Decompressed size of the tar stream. */
  unpackedBytes: number;
  /** sha256 of the compressed bytes, hex. */
  sha256: string;
}

/** node-tar, loaded on first use: importing the SDK (and starting the CLI) must not pay for it. */
function loadTar(): Promise<typeof Tar> {
  return import('tar');
}

function limitsOf(opts: Partial<ArchiveLimits>): ArchiveLimits {
  return {
    maxArchiveBytes: opts.maxArchiveBytes ?? DEFAULT_ARCHIVE_LIMITS.maxArchiveBytes,
    maxUnpackedBytes: opts.maxUnpackedBytes ?? DEFAULT_ARCHIVE_LIMITS.maxUnpackedBytes,
    maxEntries: opts.maxEntries ?? DEFAULT_ARCHIVE_LIMITS.maxEntries,
  };
}

/**
 * Archive limits from `POCKETENV_COPY_MAX_BYTES` (compressed), `POCKETENV_COPY_MAX_UNPACKED_BYTES`
 * and `POCKETENV_COPY_MAX_ENTRIES`, defaulting to {@link DEFAULT_ARCHIVE_LIMITS}. The server and
 * the CLI read the same variables (each from its own environment snapshot, taken at start).
 */
export function archiveLimitsFromEnv(env: Env): ArchiveLimits {
  const settings = settingsFrom(env);
  return {
    maxArchiveBytes: settings.size('POCKETENV_COPY_MAX_BYTES', DEFAULT_ARCHIVE_LIMITS.maxArchiveBytes),
    maxUnpackedBytes: settings.size('POCKETENV_COPY_MAX_UNPACKED_BYTES', DEFAULT_ARCHIVE_LIMITS.maxUnpackedBytes),
    maxEntries: settings.integer('POCKETENV_COPY_MAX_ENTRIES', DEFAULT_ARCHIVE_LIMITS.maxEntries, { min: 1 }),
  };
}

/** "512 MiB", "4 GiB", "1500 bytes". */
export function formatBytes(n: number): string {
  if (n >= GiB && n % GiB === 0) return `${n / GiB} GiB`;
  if (n >= MiB && n % MiB === 0) return `${n / MiB} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

// --- checking -------------------------------------------------------------------------------

/** Keeps the rules of one archive: what was seen, what may still be linked to. */
class EntryRules {
  entries = 0;
  declaredBytes = 0;
  /** Folded path → the link as the archive names it, and its target. */
  private readonly symlinks = new Map<string, { name: string; target: string }>();
  /** Folded path → what the archive made there last. */
  private readonly kinds = new Map<string, TarEntry['kind']>();
  /** Every directory some entry (or hard link target) lives under. */
  private readonly parents = new Set<string>();

  constructor(
    private readonly limits: ArchiveLimits,
    private readonly symlinkPolicy: SymlinkPolicy,
  ) {}

  /** Types, framing and headers were checked by the reader (GnuTarReader); these are the path rules. */
  check(entry: TarEntry): void {
    const shown = entry.path;
    if (++this.entries > this.limits.maxEntries) {
      throw unsafe(`the archive has more than ${this.limits.maxEntries} entries`);
    }
    const parts = components(entry.path, shown);
    const key = fold(parts.join('/'));
    const kind = entry.kind;
    if (key === '' && kind !== 'directory') throw unsafe(`entry ${JSON.stringify(shown)} has no name`, shown);

    this.declaredBytes += entry.size;
    if (this.declaredBytes > this.limits.maxUnpackedBytes) {
      throw unsafe(`the archive unpacks to more than ${formatBytes(this.limits.maxUnpackedBytes)}`, shown);
    }

    const previous = this.kinds.get(key);
    if (previous === 'symlink' || (kind === 'symlink' && previous !== undefined)) {
      throw unsafe(`entry ${JSON.stringify(shown)} appears twice, once as a symbolic link`, shown);
    }
    // Unpackers fail half-way on these (GNU tar: "Not a directory"), after writing part of the archive.
    for (const parent of parentsOf(key)) {
      const above = this.kinds.get(parent);
      if (above === 'file' || above === 'hardlink') throw unsafe(`entry ${JSON.stringify(shown)} is inside an earlier entry that is a file`, shown);
    }
    if ((kind === 'file' || kind === 'hardlink') && this.parents.has(key)) {
      throw unsafe(`entry ${JSON.stringify(shown)} is a file where earlier entries made a directory`, shown);
    }
    this.addParents(key);

    if (kind === 'symlink') {
      const target = entry.linkpath ?? '';
      if (target === '' || target.includes('\0')) throw unsafe(`symbolic link ${JSON.stringify(shown)} has no valid target`, shown);
      if (nestsWith(key, target)) {
        throw unsafe(`symbolic link ${JSON.stringify(shown)} has a target (${JSON.stringify(target)}) that, read from the top of the archive, contains or lies inside the link itself; node-tar never finishes unpacking it`, shown);
      }
      this.symlinks.set(key, { name: parts.join('/'), target });
    } else if (kind === 'hardlink') {
      const targetParts = components(entry.linkpath ?? '', shown, 'hard link target');
      const target = fold(targetParts.join('/'));
      if (target === key || this.kinds.get(target) !== 'file') {
        throw unsafe(`hard link ${JSON.stringify(shown)} points to ${JSON.stringify(entry.linkpath)}, which is not an earlier file of the archive`, shown);
      }
      this.addParents(target);
    }
    this.kinds.set(key, kind);
  }

  /** Checks that need the whole archive: writes through links, and where links lead. */
  finish(): void {
    for (const [key, link] of this.symlinks) {
      if (this.parents.has(key)) {
        throw unsafe(`entries are written through the symbolic link ${JSON.stringify(link.name)}`, link.name);
      }
    }
    if (this.symlinkPolicy === 'inside-only') {
      for (const link of this.symlinks.values()) {
        if (!this.resolvesInside(link.name, link.target)) {
          throw unsafe(`symbolic link ${JSON.stringify(link.name)} points outside the directory (to ${JSON.stringify(link.target)})`, link.name);
        }
      }
    }
  }

  /** `key` is folded already (folding never adds or removes a '/'). */
  private addParents(key: string): void {
    for (const parent of parentsOf(key)) this.parents.add(parent);
  }

  /**
   * Resolves a link inside the archive's own tree, following the archive's other links, and
   * says whether it stays inside. Lexical resolution alone is not enough: `a -> d/s/..` with
   * `d/s -> ..` leaves the tree although `d/s/..` looks like `d`.
   */
  private resolvesInside(link: string, target: string): boolean {
    if (target.startsWith('/')) return false;
    const stack = link.split('/').slice(0, -1);
    const queue = target.split('/');
    let hops = 0;
    while (queue.length > 0) {
      const part = queue.shift()!;
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (stack.length === 0) return false;
        stack.pop();
        continue;
      }
      stack.push(part);
      const next = this.symlinks.get(fold(stack.join('/')))?.target;
      if (next !== undefined) {
        if (++hops > MAX_SYMLINK_HOPS || next.startsWith('/')) return false;
        stack.pop();
        queue.unshift(...next.split('/'));
      }
    }
    return true;
  }
}

/**
 * node-tar reserves a link's path and its target (taken from the top of the archive) together
 * before it writes the link, and never gets the reservation when one lies inside the other
 * (`a/c -> a`): the unpack hangs. Such links are refused.
 */
function nestsWith(key: string, target: string): boolean {
  const t = fold(path.posix.join(target).replace(/(.)\/+$/, '$1'));
  return t !== key && (t.startsWith(`${key}/`) || key.startsWith(`${t}/`));
}

/** `a/b/c` → `a`, `a/b`. */
function* parentsOf(key: string): Generator<string> {
  for (let at = key.indexOf('/'); at !== -1; at = key.indexOf('/', at + 1)) yield key.slice(0, at);
}

/**
 * The form paths are compared in: Unicode-normalised and case-folded, so that on a
 * case-insensitive or normalising filesystem (macOS, Windows) `Link/x` cannot slip through a
 * link named `link`. Stricter than needed on Linux, never looser.
 */
function fold(p: string): string {
  return p.normalize('NFD').toLocaleLowerCase('en').toLocaleUpperCase('en');
}

/** An entry path as components; refuses absolute paths, `..` and `//`. `./a/b/` → ['a', 'b']. */
function components(raw: string, shown: string, what = 'entry'): string[] {
  if (raw.includes('\0')) throw unsafe(`${what} ${JSON.stringify(shown)} contains a NUL byte`, shown);
  if (raw.startsWith('/')) throw unsafe(`${what} ${JSON.stringify(raw)} is an absolute path`, shown);
  // No tar writes these, and node-tar never finishes unpacking a symbolic link named `a//b`.
  if (raw.includes('//')) throw unsafe(`${what} ${JSON.stringify(raw)} has an empty component ('//')`, shown);
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw unsafe(`${what} ${JSON.stringify(raw)} contains a '..' component`, shown);
  if (parts.length > MAX_DEPTH) throw unsafe(`${what} ${JSON.stringify(shown.slice(0, 80))}… is nested too deeply`, shown);
  return parts;
}

/**
 * Reads a whole tar+gzip archive and checks every entry (see the module comment). Resolves
 * with its summary, or rejects with an {@link ArchiveError}. Nothing is written anywhere.
 * @example
 * const summary = await inspectArchive(createReadStream('a.tar.gz'), { maxUnpackedBytes: 1 << 30 });
 */
export async function inspectArchive(source: AsyncIterable<Uint8Array> | Readable, opts: InspectOptions = {}): Promise<ArchiveSummary> {
  const tar = await loadTar();
  const limits = limitsOf(opts);
  const rules = new EntryRules(limits, opts.symlinks ?? 'inside-only');
  const hash = createHash('sha256');
  let archiveBytes = 0;
  let unpackedBytes = 0;
  let failure: Error | undefined;
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => (settle = resolve));

  const gunzip = zlib.createGunzip();
  const fail = (err: Error): void => {
    if (!failure) {
      failure = err;
      gunzip.destroy();
    }
    settle();
  };

  // What GNU tar will unpack, checked as it is read; node-tar must then read the same entries.
  const expected: TarEntry[] = [];
  const reader = new GnuTarReader((entry) => {
    rules.check(entry);
    expected.push(entry);
    opts.onEntry?.(entry);
  });
  const parser = new tar.Parser({
    strict: true,
    onReadEntry: (entry) => {
      try {
        if (!failure) sameEntry(expected.shift(), entry);
      } catch (err) {
        fail(err as Error);
      }
      entry.resume();
    },
  });
  // Entries node-tar skips (unknown types, oversized pax headers): the reader refuses them first; never unpack them.
  parser.on('ignoredEntry', (entry: Tar.ReadEntry) =>
    fail(unsafe(`entry ${JSON.stringify(String(entry.path))} has an unsupported type (${entry.type})`, String(entry.path))),
  );
  parser.on('error', (err: Error) => fail(err instanceof ArchiveError ? err : new ArchiveError('invalid', `not a valid tar archive: ${err.message}`)));
  parser.on('end', () => settle());

  gunzip.on('data', (chunk: Buffer) => {
    if (failure) return;
    unpackedBytes += chunk.length;
    if (unpackedBytes > limits.maxUnpackedBytes) {
      fail(unsafe(`the archive unpacks to more than ${formatBytes(limits.maxUnpackedBytes)}`));
      return;
    }
    // Bytes after the end-of-archive blocks are only counted (no reader reads them), so
    // padding-bombs cost no memory.
    if (reader.finished) return;
    let archivePart: Buffer;
    try {
      archivePart = chunk.subarray(0, reader.write(chunk));
    } catch (err) {
      fail(err as Error);
      return;
    }
    if (archivePart.length > 0 && !parser.write(archivePart)) {
      gunzip.pause();
      parser.once('drain', () => gunzip.resume());
    }
  });
  gunzip.on('end', () => parser.end());
  gunzip.on('error', (err) => fail(new ArchiveError('invalid', `not a valid gzip stream: ${err.message}`)));

  try {
    for await (const chunk of source) {
      if (failure) break;
      archiveBytes += chunk.length;
      opts.onBytes?.(archiveBytes);
      if (archiveBytes > limits.maxArchiveBytes) {
        fail(new ArchiveError('too-large', `the archive is larger than ${formatBytes(limits.maxArchiveBytes)}`));
        break;
      }
      hash.update(chunk);
      if (!gunzip.write(chunk)) await drainOrClose(gunzip);
    }
    if (!failure && archiveBytes === 0) fail(new ArchiveError('invalid', 'the archive is empty'));
    if (!failure) gunzip.end();
    await settled;
    if (!failure) {
      reader.end();
      if (expected.length > 0) sameEntry(expected[0], undefined);
      rules.finish();
    }
  } catch (err) {
    fail(err instanceof Error ? err : new Error(String(err)));
  } finally {
    if (source instanceof Readable) source.destroy();
  }
  if (failure) throw failure;
  return { entries: rules.entries, archiveBytes, unpackedBytes, sha256: hash.digest('hex') };
}

const NODE_TAR_KINDS: Record<string, TarEntry['kind']> = {
  File: 'file',
  OldFile: 'file',
  ContiguousFile: 'file',
  Directory: 'directory',
  SymbolicLink: 'symlink',
  Link: 'hardlink',
};

/** Refuses the archive unless node-tar read the entry GNU tar reads next (same name, type, target, size). */
function sameEntry(gnu: TarEntry | undefined, node: Tar.ReadEntry | undefined): void {
  const seen = node && {
    path: String(node.path).replace(/(.)\/+$/, '$1'),
    kind: NODE_TAR_KINDS[node.type],
    size: node.size,
    linkpath: node.type === 'Link' || node.type === 'SymbolicLink' ? String(node.linkpath ?? '') : undefined,
  };
  if (gnu && seen && gnu.path === seen.path && gnu.kind === seen.kind && gnu.size === seen.size && gnu.linkpath === seen.linkpath) return;
  const describe = (e: { path: string; kind?: string; size: number; linkpath?: string } | undefined) => (e ? `${e.kind ?? node?.type} ${JSON.stringify(e.path)}${e.linkpath !== undefined ? ` -> ${JSON.stringify(e.linkpath)}` : ''} (${e.size} bytes)` : 'nothing');
  throw unsafe(`tar programs read this archive differently (GNU tar: ${describe(gnu)}; node-tar: ${describe(seen)}); refused as ambiguous`, gnu?.path ?? seen?.path);
}

/** Resolves when a writable can take more, or has closed (after a failure). */
function drainOrClose(stream: zlib.Gunzip): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

/** {@link inspectArchive} on a file. */
export function inspectArchiveFile(file: string, opts: InspectOptions = {}): Promise<ArchiveSummary> {
  return inspectArchive(createReadStream(file), opts);
}

// --- unpacking ------------------------------------------------------------------------------

/**
 * Checks an archive file, then unpacks it into `dest` (created when missing). Ownership is
 * not restored and setuid/setgid/sticky bits are dropped; existing symbolic links in `dest`
 * are never followed (node-tar refuses to write through them).
 * @example
 * await unpackArchive('/tmp/x.tar.gz', './out');
 */
export async function unpackArchive(file: string, dest: string, opts: InspectOptions = {}): Promise<ArchiveSummary> {
  const summary = await inspectArchiveFile(file, opts);
  await mkdir(dest, { recursive: true });
  const tar = await loadTar();
  const unpack = new tar.Unpack({
    cwd: dest,
    strict: true,
    preservePaths: false,
    preserveOwner: false,
    maxDepth: MAX_DEPTH,
    filter: (_path, entry) => {
      if ('mode' in entry && typeof entry.mode === 'number') entry.mode &= 0o777;
      return true;
    },
  });
  // Decompressed here (already checked above), so node-tar's own ratio guard does not refuse
  // legitimately compressible files such as zero-filled images.
  await pipeline(createReadStream(file), zlib.createGunzip(), unpack as unknown as NodeJS.WritableStream);
  return summary;
}

// --- packing --------------------------------------------------------------------------------

export interface PackOptions {
  /** Decides, for a path relative to the root (`a/b.txt`, directories without a trailing slash), whether it is left out. */
  exclude?: (relativePath: string, isDirectory: boolean) => boolean | Promise<boolean>;
  /** Called once per packed entry. */
  onEntry?: (entriesDone: number, entriesTotal: number) => void;
}

/**
 * Packs `source` into the tar+gzip file `dest`. A directory's *contents* become the archive's
 * root (so they land directly in the destination directory); a single file becomes one entry
 * named after it. Symbolic links are stored as links, never followed.
 * @example
 * await packPath('./site', '/tmp/site.tar.gz', { exclude: (p) => p === 'node_modules' });
 */
export async function packPath(source: string, dest: string, opts: PackOptions = {}): Promise<{ entries: number }> {
  const info = await stat(source);
  let cwd: string;
  let entries: string[];
  if (info.isDirectory()) {
    cwd = source;
    entries = ['.', ...(await walk(source, opts.exclude))];
  } else if (info.isFile()) {
    cwd = path.dirname(source);
    entries = [path.basename(source)];
  } else {
    throw new ArchiveError('invalid', `${source} is neither a file nor a directory`);
  }
  let done = 0;
  const tar = await loadTar();
  await tar.create(
    {
      file: dest,
      cwd,
      gzip: { level: 6 },
      portable: true,
      noDirRecurse: true,
      follow: false,
      onWriteEntry: () => opts.onEntry?.(++done, entries.length),
    },
    // node-tar reads a name starting with '@' as "the entries of that archive".
    entries.map((e) => (e.startsWith('@') ? `./${e}` : e)),
  );
  return { entries: entries.length };
}

/** Every path under `root`, parents before children, relative with `/` separators. Excluded directories are not entered. */
async function walk(root: string, exclude?: PackOptions['exclude']): Promise<string[]> {
  const out: string[] = [];
  const visit = async (rel: string): Promise<void> => {
    const dirents = await readdir(rel === '' ? root : path.join(root, rel), { withFileTypes: true });
    dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of dirents) {
      const child = rel === '' ? d.name : `${rel}/${d.name}`;
      const isDir = d.isDirectory();
      if (await exclude?.(child, isDir)) continue;
      // Sockets, fifos and devices cannot travel in an archive (and would be refused on arrival).
      if (!isDir && !d.isFile() && !d.isSymbolicLink()) continue;
      out.push(child);
      if (isDir) await visit(child);
    }
  };
  await visit('');
  return out;
}
