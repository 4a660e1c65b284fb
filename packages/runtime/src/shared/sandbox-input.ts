/**
 * Checks of what callers hand a provider (ids, hostnames, file paths and modes), the same for
 * every provider: a bad value is refused before any host or engine object is touched.
 */
import { PathEscapeError, ProviderError } from '../provider/errors';
import type { CreateSpec, FileToWrite, VolumeMount } from '../provider/types';

/** Ids name host objects (container, cgroup, veth), so they are kept to a safe alphabet. */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

export function assertValidId(id: string): void {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new ProviderError(`invalid sandbox id ${JSON.stringify(id)}: use 1-63 letters, digits, '_' or '-'`);
  }
}

/** RFC 1123 label: what `sethostname` and every resolver accept. */
const HOSTNAME_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export function assertValidHostname(hostname: string): void {
  if (typeof hostname !== 'string' || !HOSTNAME_PATTERN.test(hostname)) {
    throw new ProviderError(`invalid hostname ${JSON.stringify(hostname)}: use 1-63 letters, digits or '-'`);
  }
}

/** readFile loads whole files into memory; beyond this, use exec (e.g. `tar`). */
export const MAX_READ_BYTES = 256 * 1024 * 1024;

/** Checks a caller-supplied sandbox path and returns its components. */
export function sandboxPathComponents(path: string): string[] {
  if (typeof path !== 'string' || path.length === 0) throw new PathEscapeError(String(path), 'empty path');
  if (path.includes('\0')) throw new PathEscapeError(path, 'contains a NUL byte');
  if (!path.startsWith('/')) throw new PathEscapeError(path, 'must be absolute');
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new PathEscapeError(path, "'..' is not allowed");
  if (parts.length === 0) throw new PathEscapeError(path, 'is the root directory, not a file');
  return parts;
}

/** Checks every file of a batch up front, so one bad path writes nothing. */
export function checkFiles(files: FileToWrite[]): { file: FileToWrite; parts: string[] }[] {
  return files.map((file) => {
    const parts = sandboxPathComponents(file.path);
    const mode = file.mode ?? 0o644;
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new ProviderError(`invalid mode ${mode} for ${file.path}`);
    return { file, parts };
  });
}

/** Every resource of a create must be a positive number. */
export function assertResources(spec: CreateSpec): void {
  const r = spec.resources;
  for (const key of ['vcpus', 'memoryGiB', 'diskGiB', 'pids'] as const) {
    if (typeof r?.[key] !== 'number' || !Number.isFinite(r[key]) || r[key] <= 0) {
      throw new ProviderError(`invalid resources.${key}: ${JSON.stringify(r?.[key])} (must be a positive number)`);
    }
  }
}

/** Volume mounts: an absolute host dir, a sandbox path that is not a kernel filesystem. */
export function checkVolumes(volumes: VolumeMount[]): VolumeMount[] {
  return volumes.map((v) => {
    if (typeof v.hostPath !== 'string' || !v.hostPath.startsWith('/')) {
      throw new ProviderError(`volume host path must be absolute: ${JSON.stringify(v.hostPath)}`);
    }
    const parts = sandboxPathComponents(v.path);
    if (['proc', 'sys', 'dev'].includes(parts[0]!)) throw new PathEscapeError(v.path, 'cannot mount a volume over a kernel filesystem');
    return { hostPath: v.hostPath, path: '/' + parts.join('/'), ...(v.readOnly ? { readOnly: true } : {}) };
  });
}

/** Names of the sandbox env (StartSpec.env): what a shell can export. */
export function checkEnvNames(env: Record<string, string>): void {
  for (const key of Object.keys(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new ProviderError(`invalid environment variable name ${JSON.stringify(key)}`);
  }
}

/** Extra env of one exec: no '=' or NUL in a name, no NUL in a value. */
export function checkExecEnv(env: Record<string, string> | undefined): void {
  for (const [key, value] of Object.entries(env ?? {})) {
    if (!key || key.includes('=') || key.includes('\0') || String(value).includes('\0')) {
      throw new ProviderError(`invalid environment variable ${JSON.stringify(key)}`);
    }
  }
}
