/**
 * Reading one file of a running sandbox, byte for byte, through the copy store. First one
 * command resolves the path (symbolic links followed, as `cat` would) and says whether it is a
 * file; then the server packs it (`pushDirectory`: a file becomes a one-entry tar+gzip), the
 * archive is fetched from `/cp/<uuid>` and its one entry is read, in memory, up to `maxBytes`.
 * (Packing the link itself would not do: the server refuses an archive whose link points
 * outside it.) Exported as `files.read`.
 * @module
 */
import * as tar from 'tar';
import { ArchiveError, formatBytes } from './archive';
import type { ConnectedSandbox } from './connected';
import { fetchArchive, pushDirectory } from './copy';
import { DecodeError, InvalidRequestError, NotFoundError } from './errors';
import type { CallOptions } from './http';
import { execCommand } from './sandbox-wire';
import { quote } from './shell-quote';

export interface ReadFileOptions extends CallOptions {
  /** Refuse files larger than this many bytes (`ArchiveError` 'too-large'). @default 64 MiB */
  maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/**
 * The contents of the file at `sandboxPath` (absolute) in a running sandbox.
 * @throws NotFoundError when nothing is there; InvalidRequestError when it is a directory or not a regular file, or the sandbox is not running; ArchiveError when it is larger than `maxBytes` ('too-large').
 * @example
 * const bytes = await files.read(sb, '/workspace/logo.png');
 * const text = new TextDecoder().decode(await files.read(sb, '/etc/hostname'));
 */
export async function read(sb: ConnectedSandbox, sandboxPath: string, opts: ReadFileOptions = {}): Promise<Uint8Array> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const target = await resolveFile(sb, sandboxPath, opts);
  return readEntry(sb, await pushDirectory(sb, target, opts), maxBytes, opts);
}

/** The path with its links resolved, once it is known to be a regular file. */
async function resolveFile(sb: ConnectedSandbox, sandboxPath: string, opts: CallOptions): Promise<string> {
  if (!sandboxPath.startsWith('/')) throw new InvalidRequestError(400, 'InvalidRequest', `path must be absolute, got ${JSON.stringify(sandboxPath)}`);
  const p = quote(sandboxPath);
  const script = `p=$(readlink -f -- ${p} 2>/dev/null) || p=${p}; if [ -f "$p" ]; then t=file; elif [ -d "$p" ]; then t=directory; elif [ -e "$p" ]; then t=special; else t=missing; fi; printf '%s\\n%s' "$t" "$p"`;
  const { stdout, exitCode } = await execCommand(sb.client, sb.id, script, { signal: opts.signal, requestTimeoutMs: opts.requestTimeoutMs ?? opts.timeoutMs });
  const newline = stdout.indexOf('\n');
  if (exitCode !== 0 || newline < 0) throw new DecodeError(`could not look at ${sandboxPath} in sandbox ${sb.name} (exit ${exitCode})`);
  const [kind, resolved] = [stdout.slice(0, newline), stdout.slice(newline + 1)];
  const shown = resolved === sandboxPath ? sandboxPath : `${sandboxPath} (${resolved})`;
  if (kind === 'file') return resolved;
  if (kind === 'missing') throw new NotFoundError(404, 'FileNotFound', `${shown} does not exist in sandbox ${sb.name}`);
  const what = kind === 'directory' ? 'a directory (copy.download fetches directories)' : 'not a regular file';
  throw new InvalidRequestError(400, 'InvalidRequest', `${shown} is ${what} in sandbox ${sb.name}`);
}

/** Reads the archive only as far as its one entry's contents. */
async function readEntry(sb: ConnectedSandbox, uuid: string, maxBytes: number, opts: CallOptions): Promise<Uint8Array> {
  let settled = false;
  const parser = new tar.Parser();
  const contents = new Promise<Uint8Array>((resolve, reject) => {
    const settle = (fn: () => void) => {
      if (!settled) (settled = true), fn();
    };
    parser.on('entry', (entry: tar.ReadEntry) => {
      if (settled || entry.type !== 'File') {
        entry.resume();
        settle(() => reject(new ArchiveError('invalid', `GET /cp/${uuid}: expected one file, got a ${entry.type} entry`)));
        return;
      }
      if ((entry.size ?? 0) > maxBytes) {
        entry.resume();
        settle(() => reject(new ArchiveError('too-large', `${entry.path} is larger than ${formatBytes(maxBytes)} (maxBytes)`)));
        return;
      }
      const chunks: Buffer[] = [];
      entry.on('data', (chunk: Buffer) => chunks.push(chunk));
      entry.on('end', () => settle(() => resolve(new Uint8Array(Buffer.concat(chunks)))));
    });
    parser.on('error', (err: Error) => settle(() => reject(new ArchiveError('invalid', `GET /cp/${uuid}: not a tar+gzip archive (${err.message})`))));
    parser.on('end', () => settle(() => reject(new ArchiveError('invalid', `GET /cp/${uuid}: the archive is empty or not tar+gzip`))));
  });
  contents.catch(() => undefined);
  for await (const chunk of await fetchArchive(sb.client, uuid, opts)) {
    parser.write(Buffer.from(chunk));
    if (settled) break; // the rest of the archive is not needed
  }
  if (!settled) parser.end();
  return contents;
}
