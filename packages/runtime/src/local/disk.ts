/**
 * The sandbox's disk: its own writable layer lives in a sparse ext4 image of `diskGiB`,
 * so a sandbox that fills its disk gets "No space left on device" at its size instead of
 * eating the host's free space. The image is loop-mounted only while the sandbox runs
 * (a stopped sandbox holds no loop device), and `df /` inside shows its size.
 *
 * Sparse: the image takes host space only for what the sandbox wrote (plus a few MiB of
 * ext4 metadata). Inode tables are not zeroed (mkfs `lazy_itable_init`, mount
 * `noinit_itable`): the image is fresh and sparse, so they already read back as zeros,
 * and zeroing them would write tens of MiB per sandbox for nothing.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, realpath, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { mustRun, runCommand } from './command';
import { isMounted, unmountAll } from './overlay';

const GiB = 1024 ** 3;
/** One inode per 8 KiB: package trees (node_modules) are many small files. */
const BYTES_PER_INODE = 8192;

/** Whether this host can loop-mount images (the kernel's loop driver and ext4). */
export function loopDevicesAvailable(procFilesystems: string, loopControl = '/dev/loop-control'): boolean {
  const ext4 = procFilesystems.split('\n').some((line) => line.trim().split(/\s+/).pop() === 'ext4');
  return ext4 && existsSync(loopControl);
}

/**
 * Makes the image at `image` (atomically: a crash leaves no half-made image under that
 * name). Does nothing when it exists, so a repeated create keeps the sandbox's files.
 */
export async function createDiskImage(image: string, sizeGiB: number): Promise<void> {
  if (existsSync(image)) return;
  const partial = `${image}.partial`;
  await rm(partial, { force: true });
  await writeFile(partial, '', { mode: 0o600 });
  await truncate(partial, Math.ceil(sizeGiB * GiB));
  // -m 0: the sandbox's root is not host root, so blocks reserved for root would be lost to it.
  await mustRun('mkfs.ext4', ['-q', '-F', '-m', '0', '-i', String(BYTES_PER_INODE), '-E', 'lazy_itable_init=1,lazy_journal_init=1,nodiscard', partial]);
  await rename(partial, image);
}

/** Loop-mounts the image at `mountPoint` unless it already is (idempotent). */
export async function mountDisk(image: string, mountPoint: string): Promise<void> {
  await mkdir(mountPoint, { recursive: true, mode: 0o700 });
  if (await isMounted(mountPoint)) return;
  // `loop` sets autoclear: the loop device goes away with the unmount.
  await mustRun('mount', ['-t', 'ext4', '-o', 'loop,nodev,noinit_itable', image, mountPoint]);
  await chmod(mountPoint, 0o700);
}

/**
 * Unmounts the disk and frees its loop device. Idempotent. Also frees a loop device left
 * attached without a mount (a driver killed inside `mount`).
 *
 * The kernel frees a loop device (autoclear) once nothing uses its filesystem any more,
 * which can be after the unmount: a process that made its own mount namespace while the disk
 * was mounted holds a copy of the mount (a runtime `create` for a moment; on a host whose root
 * mount is private, also a long-lived one such as a daemon under `ip netns exec`, because
 * the unmount does not propagate there). So this waits a moment, then detaches what is left;
 * a device still in use is freed by the kernel as soon as that copy goes. It never fails a
 * stop for that.
 */
export async function unmountDisk(mountPoint: string, image: string): Promise<void> {
  await unmountAll(mountPoint);
  // The kernel names the backing file by its real path (a data dir reached through a symlink).
  const real = await realpath(image).catch(() => image);
  await detachLoops((backing) => backing === real || backing === `${real} (deleted)`);
}

/** Frees every loop device backed by a file under `dir` (a deleted sandbox's dir in the trash). */
export async function detachLoopsUnder(dir: string): Promise<void> {
  const real = await realpath(dir).catch(() => dir);
  await detachLoops((backing) => backing.startsWith(real.endsWith('/') ? real : real + '/'));
}

const AUTOCLEAR_WAIT_MS = 2000;

async function detachLoops(matches: (backingFile: string) => boolean): Promise<void> {
  const deadline = Date.now() + AUTOCLEAR_WAIT_MS;
  let devices = await loopDevicesBackedBy(matches);
  while (devices.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    devices = await loopDevicesBackedBy(matches);
  }
  // `losetup -d` of a device still in use marks it for autoclear, which is what we want.
  for (const dev of devices) await runCommand('losetup', ['-d', dev]);
}

async function loopDevicesBackedBy(matches: (backingFile: string) => boolean): Promise<string[]> {
  return (await attachedLoops()).filter((l) => matches(l.backingFile)).map((l) => l.device);
}

/** Every attached loop device of the host and the file behind it (as the kernel names it). */
export async function attachedLoops(): Promise<Array<{ device: string; backingFile: string }>> {
  const found: Array<{ device: string; backingFile: string }> = [];
  for (const name of await readdir('/sys/block').catch(() => [] as string[])) {
    if (!name.startsWith('loop')) continue;
    const backing = await readFile(`/sys/block/${name}/loop/backing_file`, 'utf8').catch(() => undefined);
    if (backing !== undefined) found.push({ device: `/dev/${name}`, backingFile: backing.trim() });
  }
  return found;
}
