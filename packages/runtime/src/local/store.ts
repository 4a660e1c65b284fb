/**
 * What a LocalProvider remembers about each sandbox, on disk. spec.json is written
 * before any host object of the sandbox exists, so whatever a crash leaves behind
 * is always findable by id; start.json keeps what a later bare `start(id)` reuses.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CreateSpec, VolumeMount } from '../provider/types';
import type { SandboxPaths, StatePaths } from './paths';
import type { OciMount } from './oci-config';
import type { GvisorPlatform } from './gvisor/platform';

export interface SavedSpec extends CreateSpec {
  createdAt: string;
  /** gVisor sandboxes: the platform chosen at create, used for every later call. */
  platform?: GvisorPlatform;
}

/** The parts of a StartSpec that shape every later start (files and repo are one-shot). */
export interface SavedStart {
  env: Record<string, string>;
  volumes: VolumeMount[];
}

/** Writes through a temp file + rename, so readers never see half a file. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, path);
}

async function readJson<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return JSON.parse(text) as T;
}

export const readSpec = (p: SandboxPaths) => readJson<SavedSpec>(p.spec);

export async function readStart(p: SandboxPaths): Promise<SavedStart> {
  return (await readJson<SavedStart>(p.startSpec)) ?? { env: {}, volumes: [] };
}

export const writeStart = (p: SandboxPaths, s: SavedStart) => writeJsonAtomic(p.startSpec, s);

/** Ids that have a sandbox dir (with or without a readable spec: half-created ones count). */
export async function sandboxDirIds(paths: StatePaths): Promise<string[]> {
  const entries = await readdir(paths.sandboxes, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

/**
 * Volumes of the running container, from the bundle config it was created with
 * (not start.json, which may already hold the volumes of the NEXT start).
 */
export async function mountedVolumes(p: SandboxPaths): Promise<VolumeMount[]> {
  const config = await readJson<{ mounts?: OciMount[] }>(p.config);
  return (config?.mounts ?? [])
    .filter((m) => m.type === 'bind' && m.options?.includes('idmap'))
    .map((m) => ({ hostPath: m.source, path: m.destination, ...(m.options?.includes('ro') ? { readOnly: true } : {}) }));
}
