/**
 * Everything a sandbox can leave on the host, looked up from the host's point of
 * view (kernel tables and dirs, not the provider's own bookkeeping). A deleted or
 * cleaned-up sandbox must have none of it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandboxCgroupDirs, sandboxPids } from '../../src/local/cgroups';
import { SandboxNetworks, vethName } from '../../src/local/network/index';
import { attachedLoops } from '../../src/local/disk';
import { mountPoints } from '../../src/local/overlay';
import { containerIdOf, ROOTFS_MOUNT_BASE } from '../../src/local/paths';

export interface HostTraces {
  /** Mount points under the state dir or at the sandbox's rootfs mount point. */
  mounts: string[];
  /** Loop devices backed by the sandbox's disk image (also once it was moved to the trash). */
  loops: string[];
  /** Network interfaces named after the sandbox. */
  veths: string[];
  /** nft ruleset lines naming the sandbox's interface or address. */
  nftRules: string[];
  /** Address allocations held for the sandbox. */
  allocations: string[];
  /** The sandbox's cgroup dirs in any hierarchy. */
  cgroups: string[];
  /** Processes in the sandbox's cgroups. */
  processes: number[];
  /** Dirs/files of the sandbox: its state dir, the runtime's state, the mount point. */
  paths: string[];
}

export function linkNames(): string[] {
  const out = execFileSync('ip', ['-o', 'link', 'show']).toString();
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(':')[1]!.trim().split('@')[0]!);
}

export function nftRuleset(): string {
  try {
    return execFileSync('nft', ['list', 'ruleset']).toString();
  } catch {
    return '';
  }
}

/** Host processes (other than this one) whose command line names `dir`. */
export function processesNaming(dir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmd.split('\0').some((a) => a === dir || a.startsWith(dir + '/'))) found.push(pid);
  }
  return found;
}

/** Loop devices whose backing file is `id`'s disk image in `stateDir` (also once in the trash). */
async function loopDevicesOf(stateDir: string, id: string): Promise<string[]> {
  const ofSandbox = (backing: string) => backing.startsWith(join(stateDir, 'sandboxes', id) + '/') || backing.startsWith(join(stateDir, 'trash', `${id}-`));
  return (await attachedLoops()).filter((l) => ofSandbox(l.backingFile)).map((l) => `${l.device} → ${l.backingFile}`);
}

/**
 * The loop devices of a sandbox whose disk is no longer mounted, once the kernel had time to
 * free them: it does so (autoclear) when the last copy of the mount goes, and a runtime
 * call of another sandbox running at that moment may hold a copy for a little while.
 */
async function loopsOnceReleased(stateDir: string, id: string): Promise<string[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const loops = await loopDevicesOf(stateDir, id);
    if (loops.length === 0 || Date.now() > deadline) return loops;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function hostTraces(stateDir: string, id: string, knownAddress?: string): Promise<HostTraces> {
  const rootfs = join(ROOTFS_MOUNT_BASE, id);
  const sandboxDir = join(stateDir, 'sandboxes', id);
  const mounts = (await mountPoints()).filter((m) => m === rootfs || m.startsWith(rootfs + '/') || m.startsWith(sandboxDir + '/') || m === sandboxDir);
  const veth = vethName(id);
  const ruleset = nftRuleset();
  const nftRules = ruleset
    .split('\n')
    .filter((l) => l.includes(`"${veth}"`) || (knownAddress !== undefined && new RegExp(`\\b${knownAddress.replace(/\./g, '\\.')}\\b`).test(l)));
  const allocations = (await new SandboxNetworks().listAllocations()).filter((a) => a === id);
  return {
    mounts,
    loops: mounts.some((m) => m.startsWith(sandboxDir + '/')) ? await loopDevicesOf(stateDir, id) : await loopsOnceReleased(stateDir, id),
    veths: linkNames().filter((n) => n === veth),
    nftRules,
    allocations,
    cgroups: await sandboxCgroupDirs(id),
    processes: await sandboxPids(id),
    paths: [sandboxDir, join(stateDir, 'oci', containerIdOf(id)), rootfs].filter((p) => existsSync(p)),
  };
}

export const NO_TRACES: HostTraces = { mounts: [], loops: [], veths: [], nftRules: [], allocations: [], cgroups: [], processes: [], paths: [] };

/**
 * Last-resort cleanup for a test whose provider failed to delete its sandboxes:
 * removes every host object of every sandbox in `stateDir` without the provider,
 * so a failing test does not leave the machine dirty for the next one.
 */
export async function forceCleanup(stateDir: string): Promise<void> {
  const { readdir, rm } = await import('node:fs/promises');
  const { removeSandboxCgroups } = await import('../../src/local/cgroups');
  const { removeMountPoint, unmountAll } = await import('../../src/local/overlay');
  const ids = new Set<string>(await readdir(join(stateDir, 'sandboxes')).catch(() => []));
  for (const c of await readdir(join(stateDir, 'oci')).catch(() => [])) if (c.startsWith('pe-')) ids.add(c.slice(3));
  for (const id of ids) {
    for (const runtime of ['crun', 'runc']) {
      try {
        execFileSync(runtime, ['--root', join(stateDir, 'oci'), 'delete', '--force', containerIdOf(id)], { stdio: 'ignore' });
      } catch {
        /* not this runtime's, or already gone */
      }
    }
    await removeSandboxCgroups(id).catch(() => undefined);
    await new SandboxNetworks().detach(id).catch(() => undefined);
    await removeMountPoint(join(ROOTFS_MOUNT_BASE, id)).catch(() => undefined);
  }
  for (const pid of processesNaming(stateDir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await unmountAll(stateDir).catch(() => undefined);
  await rm(stateDir, { recursive: true, force: true });
}
