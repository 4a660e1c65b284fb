/**
 * Volumes of a fake sandbox: the mount point inside the sandbox's tree becomes a symbolic link
 * to the volume's host directory. The provider's own file access (writeFiles/readFile) goes
 * straight to the host directory, as with a real mount; commands reach the data through the
 * tree (e.g. `../data/x` from the workspace). What a link cannot do honestly is refused with
 * UnsupportedCapabilityError: read-only volumes (nothing would stop a write), a volume inside
 * another volume, and a mount over a non-empty directory (a mount would hide its content; a
 * link would have to delete it).
 */
import { lstat, mkdir, readdir, readlink, rmdir, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ProviderError, UnsupportedCapabilityError } from '../provider/errors';
import type { VolumeMount } from '../provider/types';
import { checkVolumes } from '../shared/safe-path';

const PROVIDER = 'fake';

/** Checks volumes for a fake sandbox (the generic checks, then what a link cannot do). */
export function checkFakeVolumes(volumes: VolumeMount[]): VolumeMount[] {
  const checked = checkVolumes(volumes);
  for (const v of checked) {
    if (v.readOnly) {
      throw new UnsupportedCapabilityError(PROVIDER, 'volumes', `a read-only volume (${v.path}) needs a read-only mount, which the fake provider cannot make; mount it read-write, or use the local provider`);
    }
    const outer = checked.find((o) => o !== v && (v.path === o.path || v.path.startsWith(o.path + '/')));
    if (outer) {
      throw new UnsupportedCapabilityError(PROVIDER, 'volumes', `volume ${v.path} lies inside volume ${outer.path}; the fake provider links volumes and cannot nest them`);
    }
  }
  return checked;
}

/**
 * Creates the links for `volumes` inside `root`. Parent directories are created; a parent that
 * is a symbolic link (the sandbox's own, which could point anywhere on the host) is refused.
 */
export async function linkVolumes(root: string, volumes: VolumeMount[]): Promise<void> {
  for (const v of volumes) {
    const st = await lstat(v.hostPath).catch(() => undefined);
    if (!st?.isDirectory()) throw new ProviderError(`volume host path ${v.hostPath} is not a directory`);
  }
  for (const v of volumes) {
    const parts = v.path.split('/').filter(Boolean);
    let dir = root;
    for (let i = 0; i < parts.length - 1; i++) {
      dir = join(dir, parts[i]!);
      const st = await lstat(dir).catch(() => undefined);
      if (!st) await mkdir(dir, { mode: 0o755 });
      else if (!st.isDirectory()) throw new ProviderError(`cannot mount volume ${v.path}: /${parts.slice(0, i + 1).join('/')} is not a directory in the sandbox`);
    }
    const at = join(dir, parts[parts.length - 1]!);
    const existing = await lstat(at).catch(() => undefined);
    if (existing?.isSymbolicLink() && (await readlink(at)) === v.hostPath) continue;
    if (existing?.isDirectory() && (await readdir(at)).length === 0) await rmdir(at);
    else if (existing) {
      throw new UnsupportedCapabilityError(PROVIDER, 'volumes', `${v.path} already exists in the sandbox and is not an empty directory; the fake provider links volumes and cannot mount over it`);
    }
    await symlink(v.hostPath, at, 'dir');
  }
}

/** Removes the links of `volumes` (what unmounting is); the data stays in the host directories. */
export async function unlinkVolumes(root: string, volumes: VolumeMount[]): Promise<void> {
  for (const v of volumes) {
    const at = join(root, ...v.path.split('/').filter(Boolean));
    const st = await lstat(at).catch(() => undefined);
    // Only a link this provider made: the sandbox may have replaced it with its own files.
    if (st?.isSymbolicLink() && (await readlink(at)) === v.hostPath) {
      await unlink(at);
      await mkdir(at, { mode: 0o755 }).catch(() => undefined); // the empty mount point, as after an unmount
    }
  }
}
