/**
 * What a LocalProvider remembers about each sandbox, on disk. spec.json is written
 * before any host object of the sandbox exists, so whatever a crash leaves behind
 * is always findable by id; start.json keeps what a later bare `start(id)` reuses.
 */
import { readdir } from 'node:fs/promises';
import { readJson, writeJsonAtomic } from '../shared/json-file';
import type { CreateSpec, VolumeMount } from '../provider/types';
import type { SandboxPaths, StatePaths } from './paths';
import type { OciMount } from './oci-config';

export { writeJsonAtomic } from '../shared/json-file';

export interface SavedSpec extends CreateSpec {
  createdAt: string;
}

/** The parts of a StartSpec that shape every later start (files and repo are one-shot). */
export interface SavedStart {
  env: Record<string, string>;
  volumes: VolumeMount[];
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
