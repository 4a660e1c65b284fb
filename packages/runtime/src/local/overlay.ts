/**
 * The sandbox's root filesystem: a kernel overlay of the read-only base image
 * (lower) and the sandbox's own upper dir. The overlay is mounted only while the
 * sandbox runs; a stopped sandbox is just its upper dir on disk.
 */
import { chmod, chown, lstat, mkdir, readFile, rmdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { mustRun, runCommand } from './command';

/** Mount points in the host mount namespace, unescaped (`\040` → space). */
export async function mountPoints(): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ')[4]!.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))));
}

/** Mount points at or below `dir` (deepest first, ready for unmounting). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const prefix = dir.endsWith('/') ? dir : dir + '/';
  return (await mountPoints()).filter((m) => m === dir || m.startsWith(prefix)).sort((a, b) => b.length - a.length);
}

export async function isMounted(path: string): Promise<boolean> {
  return (await mountPoints()).includes(path);
}

export interface OverlayDirs {
  /** `lowerdir=` value: one dir, or several joined with ':' (top first). */
  lower: string;
  upper: string;
  work: string;
  target: string;
}

/**
 * Prepares upper/work/target. The upper dir's root is owned by the sandbox's root
 * user (host `rootUid`), otherwise root inside could not create files in `/`.
 */
export async function prepareOverlayDirs(dirs: OverlayDirs, rootUid: number): Promise<void> {
  for (const dir of [dirs.upper, dirs.work]) await mkdir(dir, { recursive: true, mode: 0o755 });
  // The mount point's parents must be traversable by the sandbox's (unprivileged)
  // root: the runtime sets the rootfs up from inside the user namespace.
  const parent = dirname(dirs.target);
  await mkdir(parent, { recursive: true, mode: 0o711 });
  for (const dir of [dirname(parent), parent]) {
    const mode = (await stat(dir)).mode & 0o7777;
    if ((mode & 0o001) === 0) await chmod(dir, mode | 0o111);
  }
  await mkdir(dirs.target, { recursive: true, mode: 0o755 });
  const st = await lstat(dirs.upper);
  if (st.uid !== rootUid || st.gid !== rootUid) await chown(dirs.upper, rootUid, rootUid);
}

/**
 * Mounts the overlay unless it already is (idempotent). `nodev`: a device node in
 * a sandbox's files is never a way to a host device (the sandbox's /dev is a
 * separate mount; the devices cgroup is the other guard).
 */
export async function mountOverlay(dirs: OverlayDirs): Promise<void> {
  if (await isMounted(dirs.target)) return;
  const options = `nodev,lowerdir=${dirs.lower},upperdir=${dirs.upper},workdir=${dirs.work}`;
  await mustRun('mount', ['-t', 'overlay', 'overlay', '-o', options, dirs.target]);
}

/** Unmounts everything at or below `dir`; lazily when something still holds it. */
export async function unmountAll(dir: string): Promise<void> {
  for (const point of await mountsUnder(dir)) {
    const result = await runCommand('umount', [point]);
    if (result.code !== 0 && (await isMounted(point))) await mustRun('umount', ['-l', point]);
  }
}

/** Unmounts a mount point and removes the (then empty) dir. */
export async function removeMountPoint(dir: string): Promise<void> {
  await unmountAll(dir);
  await rmdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}
