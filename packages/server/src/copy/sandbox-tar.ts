/**
 * Moving archives in and out of a sandbox with the sandbox's own `tar`, through the
 * provider's exec: this works for every provider that can exec, and unpacking happens
 * inside the sandbox, so an archive can never write to the host. Archives are checked
 * (`inspectArchive`) before they are sent in; what comes out is checked by the caller.
 *
 * Paths reach the shell only single-quoted (see `shellQuote`); nothing else is interpolated.
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { formatBytes } from '@pocketenv/sdk/archive';
import type { AppContext } from '../context';
import type { SandboxRecord } from '../db/schema';
import { InvalidInputError, InvalidStateError, ProviderFailureError } from '../errors';
import type { ArchiveFileWriter } from './archive-file';
import { payloadTooLarge } from './errors';

/** Exit codes our scripts use to say what went wrong (tar itself uses 1 and 2). */
const NO_TAR = 90;
const NO_SUCH_PATH = 91;
const CANNOT_CREATE = 92;
const UNPACK_FAILED = 93;
const NOT_GNU_TAR = 94;

const MAX_STDERR_BYTES = 16 * 1024;
const READ_CHUNK_BYTES = 1024 * 1024;

/** `'it'\''s'`: safe for any string in a POSIX shell. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * A sandbox path from a request: absolute, no NUL or newline, normalised (`/a/./b/` → `/a/b`).
 * `..` is resolved lexically; the path only ever means something inside the sandbox.
 */
export function sandboxPath(field: string, value: string): string {
  if (!value.startsWith('/')) throw new InvalidInputError(field, `${JSON.stringify(value)} is not an absolute path inside the sandbox`);
  if (/[\0\n\r]/.test(value)) throw new InvalidInputError(field, 'must not contain NUL or line breaks');
  const normalized = path.posix.normalize(value);
  return normalized.length > 1 ? normalized.replace(/\/+$/, '') : normalized;
}

export function requireRunning(record: SandboxRecord): void {
  if (record.status !== 'RUNNING') throw new InvalidStateError(`sandbox ${record.name} is ${record.status}, not RUNNING; start it first`);
}

const CHECK_TAR = `command -v tar >/dev/null 2>&1 && command -v gzip >/dev/null 2>&1 || { echo "tar and gzip are needed in the sandbox" >&2; exit ${NO_TAR}; }`;
/** The archive was checked as GNU tar reads it (`@pocketenv/sdk/archive`), so only GNU tar may unpack it. */
const CHECK_GNU_TAR = `tar --version 2>/dev/null | head -n 1 | grep -q 'GNU tar' || { echo "tar is not GNU tar" >&2; exit ${NOT_GNU_TAR}; }`;
/**
 * How every checked archive is unpacked: ownership is not restored, and extended attributes,
 * ACLs and SELinux labels in the archive are ignored (the check lets xattr records through
 * only because they are never applied).
 */
const EXTRACT = 'tar -xzf - --no-same-owner --no-xattrs --no-acls --no-selinux';

/**
 * Packs `sandboxDir` (a directory: its contents; a file: one entry named after it) as
 * tar+gzip into `out`, stopping the sandbox's tar as soon as the archive passes the limit.
 */
export async function packFromSandbox(
  ctx: AppContext,
  record: SandboxRecord,
  sandboxDir: string,
  out: ArchiveFileWriter,
  opts: { field: string; timeoutMs: number; directoryOnly?: boolean },
): Promise<void> {
  const parent = path.posix.dirname(sandboxDir);
  const name = path.posix.basename(sandboxDir);
  const single = opts.directoryOnly
    ? `elif [ -e "$p" ]; then echo "not a directory" >&2; exit ${NO_SUCH_PATH}`
    : // `./name`: a name starting with '-' is never read as an option.
      `elif [ -e "$p" ] || [ -L "$p" ]; then exec tar -czf - -C ${shellQuote(parent)} ${shellQuote(`./${name}`)}`;
  const script = [
    CHECK_TAR,
    `p=${shellQuote(sandboxDir)}`,
    'if [ -d "$p" ]; then exec tar -czf - -C "$p" .',
    single,
    `else echo "no such file or directory" >&2; exit ${NO_SUCH_PATH}; fi`,
  ].join('\n');

  const stderr = new StderrTail();
  let proc: Awaited<ReturnType<typeof execStream>> | undefined;
  const result = await withActivity(ctx, record, async () => {
    proc = await execStream(ctx, record, script, {
      onStdout: (chunk) => {
        if (!out.write(chunk)) proc?.kill();
      },
      onStderr: (chunk) => stderr.push(chunk),
    }, opts.timeoutMs);
    proc.closeStdin();
    return proc.wait();
  });

  if (out.tooLarge) throw payloadTooLarge(`${opts.field}: the archive of ${sandboxDir} is larger than ${formatBytes(out.maxBytes)} (POCKETENV_COPY_MAX_BYTES)`);
  if (result.timedOut) throw new ProviderFailureError(`packing ${sandboxDir} did not finish within ${opts.timeoutMs} ms`);
  if (result.exitCode === NO_TAR) throw new InvalidStateError(`sandbox ${record.name} has no tar or gzip; install them first`);
  if (result.exitCode === NO_SUCH_PATH) {
    const why = stderr.text().includes('not a directory') ? 'is not a directory' : 'does not exist';
    throw new InvalidInputError(opts.field, `${sandboxDir} ${why} in sandbox ${record.name}`);
  }
  // GNU tar exits 1 when a file changed while it was read: the archive is still complete.
  if (result.exitCode === 1) ctx.log.warn('copy.pack: files changed while they were archived', { sandbox: record.id });
  else if (result.exitCode !== 0) throw new ProviderFailureError(`tar failed in sandbox ${record.name} (exit ${result.exitCode}): ${stderr.text()}`);
}

export type UnpackMode =
  /** Unpack into the directory, next to what is already there (copies). */
  | 'merge'
  /** Make the directory exactly the archive: unpack beside it, then swap (restores). */
  | 'replace';

/** Sends a checked archive into the sandbox and unpacks it there into `sandboxDir`. */
export async function unpackIntoSandbox(
  ctx: AppContext,
  record: SandboxRecord,
  archiveFile: string,
  sandboxDir: string,
  opts: { field: string; mode: UnpackMode; timeoutMs: number },
): Promise<void> {
  const script = opts.mode === 'merge' ? mergeScript(sandboxDir) : replaceScript(sandboxDir);
  const stderr = new StderrTail();
  const result = await withActivity(ctx, record, async () => {
    const proc = await execStream(ctx, record, script, { onStderr: (chunk) => stderr.push(chunk) }, opts.timeoutMs);
    try {
      // At the sandbox's pace: the next chunk is read once the command's side took the last.
      for await (const chunk of createReadStream(archiveFile, { highWaterMark: READ_CHUNK_BYTES })) await proc.writeStdin(chunk as Buffer);
    } finally {
      proc.closeStdin();
    }
    return proc.wait();
  });

  if (result.timedOut) throw new ProviderFailureError(`unpacking into ${sandboxDir} did not finish within ${opts.timeoutMs} ms`);
  switch (result.exitCode) {
    case 0:
      return;
    case NO_TAR:
      throw new InvalidStateError(`sandbox ${record.name} has no tar or gzip; install them first`);
    case NOT_GNU_TAR:
      throw new InvalidStateError(`sandbox ${record.name}'s tar is not GNU tar, which archives are checked for; install GNU tar (Debian package tar) first`);
    case CANNOT_CREATE:
      throw new InvalidInputError(opts.field, `cannot create ${sandboxDir} in sandbox ${record.name}: ${stderr.text()}`);
    default:
      throw new ProviderFailureError(`unpacking into ${sandboxDir} failed in sandbox ${record.name} (exit ${result.exitCode}): ${stderr.text()}`);
  }
}

function mergeScript(dir: string): string {
  return [
    CHECK_TAR,
    CHECK_GNU_TAR,
    `d=${shellQuote(dir)}`,
    `mkdir -p -- "$d" || exit ${CANNOT_CREATE}`,
    // --no-overwrite-dir: existing directories keep their owner and mode.
    `${EXTRACT} -C "$d" --no-overwrite-dir || exit ${UNPACK_FAILED}`,
  ].join('\n');
}

function replaceScript(dir: string): string {
  if (dir === '/') throw new InvalidInputError('directory', 'cannot replace / ; restore into a directory below it');
  const parent = path.posix.dirname(dir);
  return [
    CHECK_TAR,
    CHECK_GNU_TAR,
    `d=${shellQuote(dir)}`,
    `parent=${shellQuote(parent)}`,
    `mkdir -p -- "$parent" || exit ${CANNOT_CREATE}`,
    `stage=$(mktemp -d "$parent/.pocketenv-restore.XXXXXX") || exit ${CANNOT_CREATE}`,
    `if ! ${EXTRACT} -C "$stage"; then rm -rf -- "$stage"; exit ${UNPACK_FAILED}; fi`,
    'if [ ! -e "$d" ] && [ ! -L "$d" ]; then',
    `  mv -T -- "$stage" "$d" || { rm -rf -- "$stage"; exit ${UNPACK_FAILED}; }`,
    // Move the old directory aside first: nothing is deleted until the new one is in place.
    'elif old=$(mktemp -u "$parent/.pocketenv-old.XXXXXX") && mv -T -- "$d" "$old" 2>/dev/null; then',
    `  mv -T -- "$stage" "$d" || { mv -T -- "$old" "$d"; rm -rf -- "$stage"; exit ${UNPACK_FAILED}; }`,
    '  rm -rf -- "$old"',
    'else',
    // It cannot be moved: a mount point (a volume). Keep it and replace what is inside.
    `  { find "$d" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} + && find "$stage" -mindepth 1 -maxdepth 1 -exec mv -t "$d" -- {} + && rmdir -- "$stage"; } || exit ${UNPACK_FAILED}`,
    'fi',
  ].join('\n');
}

/** Exec as the server does it for users, but with handlers (streaming) and from `/`. */
async function execStream(
  ctx: AppContext,
  record: SandboxRecord,
  script: string,
  handlers: { onStdout?(chunk: Buffer): void; onStderr?(chunk: Buffer): void },
  timeoutMs: number,
) {
  const provider = ctx.orchestrator.providerOf(record);
  return provider.execStream(record.id, script, handlers, { cwd: '/', timeoutMs });
}

/** Marks the sandbox active before and after, so the idle reaper leaves it alone around a copy. */
async function withActivity<T>(ctx: AppContext, record: SandboxRecord, work: () => Promise<T>): Promise<T> {
  await ctx.sandboxes.touch(record.id);
  try {
    return await work();
  } finally {
    await ctx.sandboxes.touch(record.id).catch(() => undefined);
  }
}

/** The last few KiB of a command's stderr, for error messages. */
class StderrTail {
  private buf = Buffer.alloc(0);
  push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    if (this.buf.length > MAX_STDERR_BYTES) this.buf = this.buf.subarray(this.buf.length - MAX_STDERR_BYTES);
  }
  text(): string {
    return this.buf.toString('utf8').trim() || '(no error output)';
  }
}
