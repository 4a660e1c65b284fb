/**
 * Reading and writing files of a running sandbox from the host, without ever
 * leaving the sandbox's root.
 *
 * The sandbox owns its filesystem and may replace any directory with a symlink at
 * any moment (e.g. `/workspace/x -> /etc/shadow`). A plain host `writeFile(root +
 * path)` would follow that link into the HOST's /etc. So paths are resolved one
 * component at a time relative to an open directory fd (`/proc/self/fd/<fd>/<name>`
 * with O_NOFOLLOW is openat(2) for Node), and symlinks are interpreted the way the
 * sandbox itself sees them: absolute targets restart at the sandbox root, `..` stops
 * at the root (the semantics of openat2's RESOLVE_IN_ROOT). Nothing the sandbox does
 * can make the host touch a file outside it.
 *
 * Only regular files are read or written: FIFOs and device nodes are refused
 * (opened non-blocking, then checked with fstat).
 */
import { constants } from 'node:fs';
import { lstat, mkdir, open, readlink, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { PathEscapeError, ProviderError } from '../provider/errors';

// The checks of caller-supplied paths live with the other input checks; re-exported for the
// file functions' callers.
export { checkFiles, checkVolumes, MAX_READ_BYTES, sandboxPathComponents } from './sandbox-input';
import { MAX_READ_BYTES } from './sandbox-input';

const { O_RDONLY, O_WRONLY, O_CREAT, O_TRUNC, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;

const MAX_SYMLINKS = 40;

/** Where a path lands on the host: a root dir (overlay or volume), the rest, and who owns new files. */
export interface FileRoot {
  /** Host directory that is `/` for the resolution (the overlay, or a volume's dir). */
  hostRoot: string;
  /** Host uid/gid that new files and dirs get (the sandbox's root user); undefined: the caller's own. */
  owner: number | undefined;
  readOnly?: boolean;
}

const fdPath = (dir: FileHandle, name: string) => `/proc/self/fd/${dir.fd}/${name}`;

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException)?.code;
}

/**
 * Walks `components` (all but the last) from `root`, returning the parent dir's
 * handle and the final name. Creates missing dirs when `create` is set.
 */
async function walkToParent(root: string, components: string[], create: boolean, owner: number | undefined, original: string) {
  const rootHandle = await open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  const stack: FileHandle[] = [rootHandle];
  const queue = [...components];
  let links = 0;
  const closeAll = () => Promise.all(stack.map((h) => h.close().catch(() => undefined)));
  const followLink = async (linkPath: string) => {
    if (++links > MAX_SYMLINKS) throw new PathEscapeError(original, 'too many levels of symbolic links');
    const target = await readlink(linkPath);
    if (target.startsWith('/')) {
      while (stack.length > 1) await stack.pop()!.close();
    }
    return target.split('/').filter((p) => p !== '' && p !== '.');
  };
  try {
    while (queue.length > 0) {
      const name = queue.shift()!;
      if (name === '..') {
        // Clamp at the root, as the sandbox's own kernel view would.
        if (stack.length > 1) await stack.pop()!.close();
        continue;
      }
      if (queue.length === 0) {
        // The last component: resolve it if it is a symlink, else hand it back.
        const st = await lstat(fdPath(stack[stack.length - 1]!, name)).catch(() => undefined);
        if (st?.isSymbolicLink()) {
          queue.unshift(...(await followLink(fdPath(stack[stack.length - 1]!, name))));
          if (queue.length === 0) throw new PathEscapeError(original, 'resolves to the root directory');
          continue;
        }
        return { parent: stack.pop()!, name, release: closeAll };
      }
      const here = stack[stack.length - 1]!;
      const child = fdPath(here, name);
      try {
        stack.push(await open(child, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
        continue;
      } catch (err) {
        const code = errCode(err);
        if (code === 'ELOOP' || code === 'ENOTDIR') {
          const st = await lstat(child);
          if (st.isSymbolicLink()) {
            queue.unshift(...(await followLink(child)));
            continue;
          }
          throw new ProviderError(`${original}: a path component is not a directory`);
        }
        if (code !== 'ENOENT' || !create) throw err;
      }
      await mkdir(child, { mode: 0o755 }).catch((err) => {
        if (errCode(err) !== 'EEXIST') throw err;
      });
      const made = await open(child, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      if (owner !== undefined) await made.chown(owner, owner);
      stack.push(made);
    }
    throw new PathEscapeError(original, 'resolves to the root directory');
  } catch (err) {
    await closeAll();
    throw err;
  }
}

async function openRegular(parent: FileHandle, name: string, flags: number, mode: number | undefined, original: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(fdPath(parent, name), flags | O_NOFOLLOW | O_NONBLOCK, mode);
  } catch (err) {
    if (errCode(err) === 'ENXIO') throw new ProviderError(`${original} is not a regular file`);
    if (errCode(err) === 'ENOENT') throw new ProviderError(`no such file in the sandbox: ${original}`);
    if (errCode(err) === 'EISDIR') throw new ProviderError(`${original} is a directory`);
    throw err;
  }
  const st = await handle.stat();
  if (!st.isFile()) {
    await handle.close();
    throw new ProviderError(`${original} is not a regular file`);
  }
  return handle;
}

export async function writeFileInRoot(root: FileRoot, components: string[], content: Uint8Array, mode: number, original: string): Promise<void> {
  if (root.readOnly) throw new ProviderError(`${original} is on a read-only volume`);
  const { parent, name, release } = await walkToParent(root.hostRoot, components, true, root.owner, original);
  try {
    const handle = await openRegular(parent, name, O_WRONLY | O_CREAT | O_TRUNC, mode, original);
    try {
      await handle.writeFile(content);
      if (root.owner !== undefined) await handle.chown(root.owner, root.owner);
      await handle.chmod(mode);
    } finally {
      await handle.close();
    }
  } finally {
    await parent.close().catch(() => undefined);
    await release();
  }
}

export async function readFileInRoot(root: FileRoot, components: string[], original: string): Promise<Buffer> {
  let walked;
  try {
    walked = await walkToParent(root.hostRoot, components, false, root.owner, original);
  } catch (err) {
    if (errCode(err) === 'ENOENT') throw new ProviderError(`no such file in the sandbox: ${original}`);
    throw err;
  }
  const { parent, name, release } = walked;
  try {
    const handle = await openRegular(parent, name, O_RDONLY, undefined, original);
    try {
      const st = await handle.stat();
      if (st.size > MAX_READ_BYTES) throw new ProviderError(`${original} is larger than ${MAX_READ_BYTES} bytes; read it with exec`);
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  } finally {
    await parent.close().catch(() => undefined);
    await release();
  }
}

export interface VolumeRoot {
  /** Mount point inside the sandbox. */
  path: string;
  hostPath: string;
  readOnly?: boolean;
}

/**
 * Picks the filesystem a sandbox path lives on: the deepest volume containing it,
 * else the overlay. Returns the root and the components relative to it.
 */
export function locate(components: string[], overlay: FileRoot, volumes: VolumeRoot[], volumeOwner: number | undefined): { root: FileRoot; rest: string[] } {
  const full = '/' + components.join('/');
  const byDepth = [...volumes].sort((a, b) => b.path.length - a.path.length);
  for (const v of byDepth) {
    const mount = posix.normalize(v.path).replace(/\/+$/, '');
    if (full === mount || full.startsWith(mount + '/')) {
      const rest = full.slice(mount.length).split('/').filter(Boolean);
      return { root: { hostRoot: v.hostPath, owner: volumeOwner, readOnly: v.readOnly }, rest };
    }
  }
  return { root: overlay, rest: components };
}
