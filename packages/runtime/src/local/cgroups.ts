/**
 * Cgroup layout probing and leftover handling. The runtime (crun/runc) creates and
 * fills the cgroups from `linux.resources`; this file only answers "which cgroup
 * dirs does sandbox X have on this host" and removes them when nothing else will.
 *
 * Three layouts exist in the wild:
 *  - v2 (unified): /sys/fs/cgroup is cgroup2 → /sys/fs/cgroup/pocketenv/<id>
 *  - v1: one mount per controller → /sys/fs/cgroup/<controller>/pocketenv/<id>
 *  - hybrid: v1 controllers plus a controller-less cgroup2 at /sys/fs/cgroup/unified.
 *    Limits live in v1; runc also mirrors the path in `unified`. crun refuses hybrid
 *    mode unless `unified` is hidden from it (see oci-runtime.ts).
 */
import { readdirSync, statfsSync } from 'node:fs';
import { readFile, readdir, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CGROUP_PARENT } from './paths';

const CGROUP_ROOT = '/sys/fs/cgroup';
const CGROUP2_SUPER_MAGIC = 0x63677270;
const CGROUP1_SUPER_MAGIC = 0x27e0eb;

export type CgroupMode = 'v1' | 'hybrid' | 'v2';

export interface CgroupLayout {
  mode: CgroupMode;
  /** Root dirs of every hierarchy a sandbox may have a cgroup in. */
  hierarchies: string[];
}

function fsType(path: string): number | undefined {
  try {
    return statfsSync(path).type;
  } catch {
    return undefined;
  }
}

let cached: CgroupLayout | undefined;

/** Reads the host's cgroup layout once per process (it does not change while we run). */
export function cgroupLayout(): CgroupLayout {
  if (cached) return cached;
  if (fsType(CGROUP_ROOT) === CGROUP2_SUPER_MAGIC) {
    cached = { mode: 'v2', hierarchies: [CGROUP_ROOT] };
    return cached;
  }
  const hierarchies: string[] = [];
  let hybrid = false;
  let entries: string[] = [];
  try {
    entries = readdirSync(CGROUP_ROOT);
  } catch {
    entries = [];
  }
  for (const name of entries.sort()) {
    const dir = join(CGROUP_ROOT, name);
    const type = fsType(dir);
    if (type === CGROUP1_SUPER_MAGIC) hierarchies.push(dir);
    else if (type === CGROUP2_SUPER_MAGIC) {
      hybrid = true;
      hierarchies.push(dir);
    }
  }
  cached = { mode: hybrid ? 'hybrid' : 'v1', hierarchies };
  return cached;
}

/** The dir of one controller's hierarchy for memory/pids, for reading counters. */
export function controllerDir(controller: 'memory' | 'pids' | 'cpu', id: string): string {
  const layout = cgroupLayout();
  if (layout.mode === 'v2') return join(CGROUP_ROOT, CGROUP_PARENT, id);
  return join(CGROUP_ROOT, controller, CGROUP_PARENT, id);
}

async function isDir(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

/** Existing cgroup dirs of a sandbox, in every hierarchy. */
export async function sandboxCgroupDirs(id: string): Promise<string[]> {
  const found: string[] = [];
  for (const hierarchy of cgroupLayout().hierarchies) {
    const dir = join(hierarchy, CGROUP_PARENT, id);
    if (await isDir(dir)) found.push(dir);
  }
  return found;
}

/** Ids that have a cgroup dir under the project's parent in any hierarchy (host-wide). */
export async function cgroupSandboxIds(): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const hierarchy of cgroupLayout().hierarchies) {
    const parent = join(hierarchy, CGROUP_PARENT);
    for (const entry of await readdir(parent, { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory()) ids.add(entry.name);
    }
  }
  return ids;
}

/** Sub-directories first, so rmdir can go bottom-up. */
async function treeBottomUp(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) out.push(...(await treeBottomUp(join(dir, entry.name))));
  }
  out.push(dir);
  return out;
}

async function procsOf(dir: string): Promise<number[]> {
  const text = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map(Number);
}

/** Host pids of every process in the sandbox's cgroups (all hierarchies, nested dirs included). */
export async function sandboxPids(id: string): Promise<number[]> {
  const pids = new Set<number>();
  for (const dir of await sandboxCgroupDirs(id)) {
    for (const sub of await treeBottomUp(dir)) for (const pid of await procsOf(sub)) pids.add(pid);
  }
  return [...pids];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Kills whatever still runs in the sandbox's cgroups and removes the dirs. Used for
 * leftovers only: the runtime's `delete` normally removes them itself.
 */
export async function removeSandboxCgroups(id: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const dirs = await sandboxCgroupDirs(id);
    if (dirs.length === 0) return;
    for (const pid of await sandboxPids(id)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    for (const dir of dirs) {
      for (const sub of await treeBottomUp(dir)) await rmdir(sub).catch(() => undefined);
    }
    await sleep(20);
  }
  const left = await sandboxCgroupDirs(id);
  if (left.length > 0) throw new Error(`could not remove cgroups of sandbox ${id}: ${left.join(', ')}`);
}
