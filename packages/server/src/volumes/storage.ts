/**
 * Where volume data lives on the host: `<dataDir>/volumes/<actorId>/<volumeId>/data`, owned by
 * host root. The local provider mounts it idmapped (host uid N appears as uid N inside the
 * sandbox's user namespace), so the sandbox's root owns it without any chown, and files the
 * sandbox writes stay readable by the server. Mount paths inside the sandbox are checked here.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { InvalidInputError } from '../errors';
import { suggestLabel } from '../sandboxes/names';

export function volumeDir(dataDir: string, ownerId: string, volumeId: string): string {
  return path.join(dataDir, 'volumes', ownerId, volumeId);
}

export function volumeDataDir(dataDir: string, ownerId: string, volumeId: string): string {
  return path.join(volumeDir(dataDir, ownerId, volumeId), 'data');
}

export async function ensureVolumeData(dataDir: string, ownerId: string, volumeId: string): Promise<string> {
  await mkdir(path.join(dataDir, 'volumes'), { recursive: true, mode: 0o700 });
  const data = volumeDataDir(dataDir, ownerId, volumeId);
  await mkdir(path.dirname(data), { recursive: true, mode: 0o700 });
  await mkdir(data, { recursive: true, mode: 0o755 });
  return data;
}

/** Removes a volume's data. `rm` never follows the symlinks a sandbox may have left inside. */
export async function removeVolumeData(dataDir: string, ownerId: string, volumeId: string): Promise<void> {
  await rm(volumeDir(dataDir, ownerId, volumeId), { recursive: true, force: true, maxRetries: 3 });
}

/** Bytes used (apparent size), or undefined when `du` cannot tell quickly. */
export function volumeSize(dataDir: string, ownerId: string, volumeId: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile('du', ['-sb', '--', volumeDataDir(dataDir, ownerId, volumeId)], { timeout: 10_000 }, (err, stdout) => {
      const bytes = Number(/^(\d+)/.exec(stdout ?? '')?.[1]);
      resolve(err || !Number.isFinite(bytes) ? undefined : bytes);
    });
  });
}

const KERNEL_FILESYSTEMS = ['proc', 'sys', 'dev'];

/**
 * A mount path: absolute, normalised, not `/` and not on a kernel filesystem. (Symlinks inside
 * the sandbox are the provider's to resolve safely when it mounts.)
 */
export function checkMountPath(value: string, field: string): string {
  if (!value.startsWith('/')) throw new InvalidInputError(field, `${JSON.stringify(value)} must be an absolute path inside the sandbox, e.g. ${JSON.stringify(`/${value.replace(/^\.\//, '')}`)}`);
  if (/[\0-\x1f]/.test(value)) throw new InvalidInputError(field, 'must not contain control characters');
  const parts = value.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new InvalidInputError(field, `${JSON.stringify(value)} must not contain '..'`);
  if (parts.length === 0) throw new InvalidInputError(field, 'a volume cannot be mounted over the sandbox root (/)');
  if (KERNEL_FILESYSTEMS.includes(parts[0]!)) {
    throw new InvalidInputError(field, `${JSON.stringify(value)} is on a kernel filesystem (/proc, /sys, /dev); choose another path`);
  }
  return `/${parts.join('/')}`;
}

const VOLUME_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Where addVolume mounts a volume when the caller gives no path (the hosted lexicon makes it
 * optional and the JS SDK's volume.create(name) sends none): its own directory under /volumes.
 * The name is already checked (one segment of [a-z0-9-]), so the path is one level below
 * /volumes, never climbs, and two different volumes never share it.
 */
export const DEFAULT_VOLUME_ROOT = '/volumes';

export function defaultMountPath(checkedName: string): string {
  return `${DEFAULT_VOLUME_ROOT}/${checkedName}`;
}

export function checkVolumeName(name: string, field: string): string {
  if (!VOLUME_NAME.test(name)) {
    throw new InvalidInputError(field, `${JSON.stringify(name)} must be 1-63 lowercase letters, digits or hyphens, starting with a letter or digit (it names the volume's directory), e.g. ${JSON.stringify(suggestLabel(name, 'data'))}`);
  }
  return name;
}
