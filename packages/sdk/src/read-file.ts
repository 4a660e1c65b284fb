/**
 * Reading one file of a running sandbox, byte for byte, through the copy store: the server
 * packs the path (`pushDirectory`: a file becomes a one-entry tar+gzip), the archive is fetched
 * from `/cp/<uuid>` and only its first entry is read, in memory, up to `maxBytes`. A symbolic
 * link is followed (tar stores the link, not its target). Exported as `files.read`.
 * @module
 */
import path from 'node:path';
import * as tar from 'tar';
import { ArchiveError, formatBytes } from './archive';
import type { ConnectedSandbox } from './connected';
import { fetchArchive, pushDirectory } from './copy';
import { InvalidRequestError } from './errors';
import type { CallOptions } from './http';

export interface ReadFileOptions extends CallOptions {
  /** Refuse files larger than this many bytes (`ArchiveError` 'too-large'). @default 64 MiB */
  maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
/** Links followed before giving up, as a loop. */
const MAX_LINKS = 8;

type FirstEntry = { kind: 'file'; bytes: Uint8Array } | { kind: 'link'; target: string } | { kind: 'other'; type: string };

/**
 * The contents of the file at `sandboxPath` (absolute) in a running sandbox.
 * @throws InvalidRequestError when the path does not exist, is a directory or is not a regular file; ArchiveError when it is larger than `maxBytes` ('too-large') or the server's archive cannot be read ('invalid').
 * @example
 * const bytes = await files.read(sb, '/workspace/logo.png');
 * const text = new TextDecoder().decode(await files.read(sb, '/etc/hostname'));
 */
export async function read(sb: ConnectedSandbox, sandboxPath: string, opts: ReadFileOptions = {}): Promise<Uint8Array> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  let target = sandboxPath;
  for (let hop = 0; hop <= MAX_LINKS; hop++) {
    const entry = await firstEntry(sb, await pushDirectory(sb, target, opts), maxBytes, opts);
    if (entry.kind === 'file') return entry.bytes;
    if (entry.kind === 'link') {
      target = path.posix.resolve(path.posix.dirname(target), entry.target);
      continue;
    }
    const what = entry.type === 'Directory' ? 'a directory (copy.download fetches directories)' : `not a regular file (${entry.type})`;
    throw new InvalidRequestError(400, 'InvalidRequest', `${target} is ${what} in sandbox ${sb.name}`);
  }
  throw new InvalidRequestError(400, 'InvalidRequest', `${sandboxPath}: more than ${MAX_LINKS} symbolic links in a row in sandbox ${sb.name}`);
}

/** Reads the archive only as far as its first entry, and that entry's contents. */
async function firstEntry(sb: ConnectedSandbox, uuid: string, maxBytes: number, opts: CallOptions): Promise<FirstEntry> {
  let settled = false;
  const parser = new tar.Parser();
  const entry = new Promise<FirstEntry>((resolve, reject) => {
    const settle = (fn: () => void) => {
      if (!settled) (settled = true), fn();
    };
    parser.on('entry', (e: tar.ReadEntry) => {
      // A file or a link is the archive's only entry; a directory's first entry is "./" itself.
      if (settled || (e.type !== 'File' && e.type !== 'OldFile' && e.type !== 'ContiguousFile')) {
        e.resume();
        if (e.type === 'SymbolicLink') settle(() => resolve({ kind: 'link', target: e.linkpath ?? '' }));
        else settle(() => resolve({ kind: 'other', type: e.type }));
        return;
      }
      if ((e.size ?? 0) > maxBytes) {
        e.resume();
        settle(() => reject(new ArchiveError('too-large', `${e.path} is larger than ${formatBytes(maxBytes)} (maxBytes)`)));
        return;
      }
      const chunks: Buffer[] = [];
      e.on('data', (chunk: Buffer) => chunks.push(chunk));
      e.on('end', () => settle(() => resolve({ kind: 'file', bytes: new Uint8Array(Buffer.concat(chunks)) })));
    });
    parser.on('error', (err: Error) => settle(() => reject(new ArchiveError('invalid', `GET /cp/${uuid}: not a tar+gzip archive (${err.message})`))));
    parser.on('end', () => settle(() => reject(new ArchiveError('invalid', `GET /cp/${uuid}: the archive is empty or not tar+gzip`))));
  });
  entry.catch(() => undefined);
  for await (const chunk of await fetchArchive(sb.client, uuid, opts)) {
    parser.write(Buffer.from(chunk));
    if (settled) break; // the rest of the archive is not needed
  }
  if (!settled) parser.end();
  return entry;
}
