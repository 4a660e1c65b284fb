/**
 * Layout of one LocalProvider's state directory. Everything a provider creates on
 * disk lives under it, so "what exists" can always be answered by reading it back.
 *
 *   <stateDir>/driver.lock              pid + start time of the process driving this dir
 *   <stateDir>/oci/                     crun/runc --root: only this provider's containers
 *   <stateDir>/oci-gvisor/              runsc --root: its gVisor sandboxes (isolation `gvisor`)
 *   <stateDir>/sandboxes/<id>/spec.json CreateSpec, written BEFORE any host object exists
 *   <stateDir>/sandboxes/<id>/start.json  last StartSpec (env, volumes) reused by a bare start()
 *   <stateDir>/sandboxes/<id>/disk.img  the sandbox's disk: sparse ext4 image of its diskGiB (see disk.ts)
 *   <stateDir>/sandboxes/<id>/disk/     its mount point, mounted only while the sandbox runs, holding
 *                                       upper/ (overlay upper dir: the sandbox's own files) and work/
 *   <stateDir>/sandboxes/<id>/upper/, work/  the same dirs of a sandbox made before disks existed
 *                                       (no disk.img): kept working, without a size limit
 *   <stateDir>/sandboxes/<id>/config.json  OCI bundle config (the bundle dir is the sandbox dir)
 *   <stateDir>/sandboxes/<id>/runtime.log  stdio of the runtime's create (errors, init output)
 *   <stateDir>/sandboxes/<id>/exec/     short-lived process.json files of running execs
 *   <stateDir>/trash/<id>-<n>/          a deleted sandbox being removed (renamed first: atomic)
 *
 *   /run/pocketenv/rootfs/<id>/         overlay mount point, mounted only while the sandbox runs.
 *
 * The mount point is outside the state dir on purpose: the runtime sets up the
 * rootfs from inside the sandbox's user namespace, i.e. as an unprivileged host
 * uid, which must be able to traverse every parent dir. A state dir under /root
 * (mode 0700) is not traversable; /run/pocketenv is (0711). Ids are host-unique
 * anyway (they name cgroups and veths), so the mount point is too.
 */
import { join } from 'node:path';
import { ProviderError } from '../provider/errors';

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

/** Container ids are global to the host's cgroup tree, so they carry a project prefix. */
export const CONTAINER_PREFIX = 'pe-';

export function containerIdOf(id: string): string {
  return CONTAINER_PREFIX + id;
}

export function sandboxIdOfContainer(containerId: string): string | undefined {
  return containerId.startsWith(CONTAINER_PREFIX) ? containerId.slice(CONTAINER_PREFIX.length) : undefined;
}

/** Cgroup path given to the runtime; the same on v1 (per hierarchy) and v2. */
export const CGROUP_PARENT = 'pocketenv';

export function cgroupsPathOf(id: string): string {
  return `/${CGROUP_PARENT}/${id}`;
}

/** Parent of the sandboxes' rootfs mount points (see above). */
export const ROOTFS_MOUNT_BASE = '/run/pocketenv/rootfs';

/** Per-sandbox dirs holding the exec agent's socket (bind-mounted into the sandbox); see agent/. */
export const AGENT_DIR_BASE = '/run/pocketenv/agent';

export class SandboxPaths {
  constructor(
    readonly dir: string,
    readonly id: string,
  ) {}
  get spec() { return join(this.dir, 'spec.json'); }
  get startSpec() { return join(this.dir, 'start.json'); }
  get diskImage() { return join(this.dir, 'disk.img'); }
  get diskMount() { return join(this.dir, 'disk'); }
  /** Overlay upper and work dirs: inside the mounted disk, or (made before disks) beside it. */
  upper(onDisk: boolean) { return join(onDisk ? this.diskMount : this.dir, 'upper'); }
  work(onDisk: boolean) { return join(onDisk ? this.diskMount : this.dir, 'work'); }
  get rootfs() { return join(ROOTFS_MOUNT_BASE, this.id); }
  get config() { return join(this.dir, 'config.json'); }
  get runtimeLog() { return join(this.dir, 'runtime.log'); }
  get execDir() { return join(this.dir, 'exec'); }
  /** Host dir of the exec agent's socket; outside the state dir for the same reason as rootfs. */
  get agentDir() { return join(AGENT_DIR_BASE, this.id); }
  get agentSocket() { return join(AGENT_DIR_BASE, this.id, 'agent.sock'); }
}

export class StatePaths {
  constructor(readonly stateDir: string) {}
  get lock() { return join(this.stateDir, 'driver.lock'); }
  get ociRoot() { return join(this.stateDir, 'oci'); }
  /** runsc --root of the gVisor sandboxes (its state files differ from crun's). */
  get gvisorRoot() { return join(this.stateDir, 'oci-gvisor'); }
  /** runsc --root of the one-shot probe sandbox (isolationLevels). */
  get gvisorProbeRoot() { return join(this.stateDir, 'oci-gvisor-probe'); }
  get sandboxes() { return join(this.stateDir, 'sandboxes'); }
  get trash() { return join(this.stateDir, 'trash'); }
  sandbox(id: string): SandboxPaths {
    assertValidId(id);
    return new SandboxPaths(join(this.sandboxes, id), id);
  }
}
