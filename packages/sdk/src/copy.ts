/**
 * Copying files between this machine and sandboxes, and between two sandboxes, through the
 * server's copy store (as the seed SDK's `pocketenv/copy`):
 *
 * - {@link upload}: pack a local file or directory (honouring `.pocketenvignore`, `.gitignore`,
 *   `.npmignore`, `.dockerignore`, nested ones too; see `ignore.ts`) → `POST /cp` →
 *   `pullDirectory`;
 * - {@link download}: `pushDirectory` → `GET /cp/<uuid>` → check → unpack;
 * - {@link to}: `pushDirectory` on one sandbox, `pullDirectory` on the other; nothing passes
 *   through this machine.
 *
 * The destination is always a directory: a directory's contents land in it, a single file
 * lands in it under its own name. An archive the server sends back is checked like any
 * untrusted archive before anything is written (see `archive.ts`).
 *
 * @example
 * import { copy, pocketenv, sandbox } from '@pocketenv/sdk';
 * const sb = sandbox.connect(await sandbox.get(client, 'box'), client);
 * await copy.upload(sb, './site', '/workspace/site');
 * await copy.download(sb, '/workspace/site/dist', './dist');
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type ArchiveLimits, ArchiveError, DEFAULT_ARCHIVE_LIMITS, formatBytes, inspectArchiveFile, packPath, unpackArchive } from './archive';
import type { Client } from './client';
import type { ConnectedSandbox } from './connected';
import { AbortedError, DecodeError, HttpError, RequestBuildError, TimeoutError } from './errors';
import { apiErrorFor, type CallOptions, procedure, requestTimeoutOf } from './http';
import { createIgnoreMatcher } from './ignore';

/** Where a transfer is; `total` is known for packing (entries) and for bytes on the wire. */
export interface CopyProgress {
  phase: 'pack' | 'upload' | 'remote' | 'download' | 'unpack';
  /** Entries packed, or bytes sent/received, so far. */
  done: number;
  total?: number;
  unit: 'entries' | 'bytes';
}

export interface CopyOptions extends CallOptions {
  /** Called as the transfer goes (the CLI draws its progress bar from it). */
  onProgress?: (progress: CopyProgress) => void;
  /** Limits on archives this client packs or accepts. @default DEFAULT_ARCHIVE_LIMITS (512 MiB compressed, 4 GiB unpacked, 500 000 entries) */
  limits?: Partial<ArchiveLimits>;
}

const USER_AGENT = 'pocketenv-sdk-ts/0.1.0';

/**
 * Uploads a local file or directory into a directory of a running sandbox.
 * @example
 * await copy.upload(sb, './project', '/workspace/project');
 */
export async function upload(sb: ConnectedSandbox, localPath: string, sandboxPath: string, opts: CopyOptions = {}): Promise<void> {
  await withTempDir(async (tmp) => {
    const archive = path.join(tmp, 'upload.tar.gz');
    const source = path.resolve(localPath);
    const isDir = (await stat(source)).isDirectory();
    const matcher = isDir ? createIgnoreMatcher(source) : undefined;
    await packPath(source, archive, {
      exclude: matcher && ((rel, dir) => matcher.isIgnored(rel, dir)),
      onEntry: (done, total) => opts.onProgress?.({ phase: 'pack', done, total, unit: 'entries' }),
    });
    // The server would refuse it anyway; saying so here names the local file.
    await inspectArchiveFile(archive, { ...opts.limits, symlinks: 'inside-only' }).catch((err: unknown) => {
      throw err instanceof ArchiveError ? new ArchiveError(err.reason, `cannot upload ${localPath}: ${err.message}`, err.entry) : err;
    });
    const uuid = await uploadArchive(sb.client, archive, opts);
    opts.onProgress?.({ phase: 'remote', done: 0, unit: 'bytes' });
    await pullDirectory(sb, uuid, sandboxPath, opts);
  });
}

/**
 * Downloads a file or directory of a running sandbox into a local directory (created when
 * missing). The archive is checked before anything is written.
 * @example
 * await copy.download(sb, '/workspace/project/dist', './dist');
 */
export async function download(sb: ConnectedSandbox, sandboxPath: string, localPath: string, opts: CopyOptions = {}): Promise<void> {
  opts.onProgress?.({ phase: 'remote', done: 0, unit: 'bytes' });
  const uuid = await pushDirectory(sb, sandboxPath, opts);
  await withTempDir(async (tmp) => {
    const archive = path.join(tmp, 'download.tar.gz');
    await downloadArchive(sb.client, uuid, archive, opts);
    opts.onProgress?.({ phase: 'unpack', done: 0, unit: 'bytes' });
    await unpackArchive(archive, path.resolve(localPath), { ...opts.limits, symlinks: 'inside-only' });
  });
}

/**
 * Copies a file or directory from one running sandbox into a directory of another (both the
 * caller's), without passing through this machine.
 * @param dest the destination sandbox, or its id or name
 * @example
 * await copy.to(source, 'other-box', '/workspace/data', '/workspace/data');
 */
export async function to(sb: ConnectedSandbox, dest: ConnectedSandbox | string, srcPath: string, destPath: string, opts: CopyOptions = {}): Promise<void> {
  opts.onProgress?.({ phase: 'remote', done: 0, unit: 'bytes' });
  const uuid = await pushDirectory(sb, srcPath, opts);
  const destId = typeof dest === 'string' ? dest : dest.id;
  await procedure(sb.client, 'io.pocketenv.sandbox.pullDirectory', {}, { sandboxId: destId, uuid, directoryPath: destPath }, opts);
}

// --- the wire calls underneath ------------------------------------------------------------

/**
 * `pushDirectory`: packs a path of the sandbox into the copy store; returns the archive's uuid.
 * @example
 * const uuid = await copy.pushDirectory(sb, '/workspace');
 */
export async function pushDirectory(sb: ConnectedSandbox, sandboxPath: string, opts?: CallOptions): Promise<string> {
  const body = await procedure(sb.client, 'io.pocketenv.sandbox.pushDirectory', {}, { sandboxId: sb.id, directoryPath: sandboxPath }, opts);
  const uuid = (body as { uuid?: unknown }).uuid;
  if (typeof uuid !== 'string' || uuid === '') throw new DecodeError('pushDirectory: field "uuid" should be a string');
  return uuid;
}

/**
 * `pullDirectory`: unpacks a copy store archive into a directory of the sandbox.
 * @example
 * await copy.pullDirectory(sb, uuid, '/workspace/in');
 */
export async function pullDirectory(sb: ConnectedSandbox, uuid: string, sandboxPath: string, opts?: CallOptions): Promise<void> {
  await procedure(sb.client, 'io.pocketenv.sandbox.pullDirectory', {}, { sandboxId: sb.id, uuid, directoryPath: sandboxPath }, opts);
}

/**
 * `POST {storageUrl}/cp`: uploads an archive file (multipart/form-data, part `file`) and
 * returns its uuid. The file is streamed, never read into memory.
 * @example
 * const uuid = await copy.uploadArchive(client, '/tmp/a.tar.gz');
 */
export async function uploadArchive(client: Client, file: string, opts: CopyOptions = {}): Promise<string> {
  const boundary = `PocketenvFormBoundary${randomBytes(12).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="archive.tar.gz"\r\nContent-Type: application/gzip\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const size = (await stat(file)).size;
  async function* body() {
    yield head;
    let sent = 0;
    opts.onProgress?.({ phase: 'upload', done: 0, total: size, unit: 'bytes' });
    for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) {
      sent += (chunk as Buffer).length;
      opts.onProgress?.({ phase: 'upload', done: sent, total: size, unit: 'bytes' });
      yield chunk as Buffer;
    }
    yield tail;
  }
  const response = await send(client, 'POST', '/cp', opts, {
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(head.length + size + tail.length) },
    body: Readable.toWeb(Readable.from(body())) as unknown as BodyInit,
  });
  const text = await response.text();
  try {
    const uuid = (JSON.parse(text) as { uuid?: unknown }).uuid;
    if (typeof uuid === 'string' && uuid !== '') return uuid;
  } catch {
    // fall through
  }
  throw new DecodeError(`POST /cp: expected {"uuid": …}, got ${text.slice(0, 200)}`);
}

/**
 * `GET {storageUrl}/cp/<uuid>`: downloads an archive into `file`, refusing more than
 * `limits.maxArchiveBytes`. Nothing is unpacked.
 * @example
 * await copy.downloadArchive(client, uuid, '/tmp/a.tar.gz');
 */
export async function downloadArchive(client: Client, uuid: string, file: string, opts: CopyOptions = {}): Promise<void> {
  const response = await send(client, 'GET', `/cp/${encodeURIComponent(uuid)}`, opts, {});
  const limit = opts.limits?.maxArchiveBytes ?? DEFAULT_ARCHIVE_LIMITS.maxArchiveBytes;
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > limit) {
    await response.body?.cancel();
    throw new ArchiveError('too-large', `the archive is larger than ${formatBytes(limit)}`);
  }
  const total = Number.isFinite(declared) ? declared : undefined;
  let received = 0;
  async function* counted(source: AsyncIterable<Uint8Array>) {
    for await (const chunk of source) {
      received += chunk.length;
      if (received > limit) throw new ArchiveError('too-large', `the archive is larger than ${formatBytes(limit)}`);
      opts.onProgress?.({ phase: 'download', done: received, total, unit: 'bytes' });
      yield chunk;
    }
  }
  if (!response.body) throw new DecodeError(`GET /cp/${uuid}: the answer has no body`);
  try {
    await pipeline(Readable.fromWeb(response.body as never), counted, createWriteStream(file, { mode: 0o600 }));
  } catch (err) {
    if (err instanceof ArchiveError) throw err;
    throw transportError(err, client.storageUrl, opts);
  }
}

/**
 * `GET {storageUrl}/cp/<uuid>`: the archive's bytes as they arrive, for readers that stop early
 * (like `files.read`; leaving the loop cancels the download). Nothing is checked or limited here.
 * @example
 * for await (const chunk of await copy.fetchArchive(client, uuid)) parser.write(chunk);
 */
export async function fetchArchive(client: Client, uuid: string, opts: CallOptions = {}): Promise<AsyncIterable<Uint8Array>> {
  const response = await send(client, 'GET', `/cp/${encodeURIComponent(uuid)}`, opts, {});
  const body = response.body;
  if (!body) throw new DecodeError(`GET /cp/${uuid}: the answer has no body`);
  return (async function* () {
    try {
      yield* body as unknown as AsyncIterable<Uint8Array>;
    } catch (err) {
      throw transportError(err, client.storageUrl, opts);
    }
  })();
}

/** One request to the copy store; non-2xx answers become the SDK's usual ApiErrors. */
async function send(client: Client, method: 'GET' | 'POST', route: string, opts: CallOptions, init: { headers?: Record<string, string>; body?: BodyInit }): Promise<Response> {
  let url: URL;
  try {
    url = new URL(`${client.storageUrl.replace(/\/+$/, '')}${route}`);
  } catch {
    throw new RequestBuildError(`invalid storage URL ${JSON.stringify(client.storageUrl)}`);
  }
  const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...init.headers };
  if (client.token !== undefined) headers.authorization = `Bearer ${client.token}`;
  const limit = requestTimeoutOf(opts);
  const signals = [opts.signal, limit !== undefined ? AbortSignal.timeout(limit) : undefined].filter((s): s is AbortSignal => !!s);
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: init.body,
      signal: signals.length ? AbortSignal.any(signals) : undefined,
      ...(init.body ? { duplex: 'half' as const } : {}),
    } as RequestInit);
  } catch (err) {
    throw transportError(err, url.origin, opts);
  }
  if (!response.ok) throw apiErrorFor(response, await response.text().catch(() => ''), client);
  return response;
}

function transportError(cause: unknown, where: string, opts: CallOptions): HttpError {
  if (opts.signal?.aborted) return new AbortedError(`${where}: aborted`, { cause });
  if ((cause as Error)?.name === 'TimeoutError') return new TimeoutError(`${where}: no answer within ${requestTimeoutOf(opts)} ms`, { cause });
  const inner = (cause as { cause?: { code?: string; message?: string } })?.cause;
  const detail = inner?.code ?? inner?.message ?? (cause instanceof Error ? cause.message : String(cause));
  return new HttpError(`cannot reach ${where} (${detail})`, { cause });
}

async function withTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pocketenv-copy-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
