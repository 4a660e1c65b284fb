/**
 * create / start / stop / delete of one sandbox, as a sequence of idempotent steps.
 *
 * Ordering is what makes crashes recoverable: spec.json first (so the id is known),
 * then host objects; teardown removes host objects (container, network, mounts,
 * cgroups) before the files, and the files go by renaming the sandbox dir into
 * the trash first. Every step can be repeated, so "run it again" is the recovery
 * for any interruption.
 */
import { chmod, chown, lstat, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { CreateSpec, FileToWrite, StartSpec, VolumeMount } from '../provider/types';
import { PathEscapeError, ProviderError, SandboxMissingError, UnsupportedCapabilityError } from '../provider/errors';
import type { LocalContext } from './context';
import { canLimitSwap, runtimeFor } from './context';
import type { SandboxRuntime } from './oci-runtime';
import { GvisorRuntime } from './gvisor/runsc';
import type { GvisorPlatform } from './gvisor/platform';
import { statxCompatMounts } from './gvisor/statx-compat';
import { removeSandboxCgroups, sandboxPids } from './cgroups';
import { baseEnv, envList, sandboxConfig, SANDBOX_UID_BASE, DEFAULT_CAPABILITIES, type OciMount } from './oci-config';
import { createDiskImage, detachLoopsUnder, mountDisk, unmountDisk } from './disk';
import { mountOverlay, prepareOverlayDirs, removeMountPoint, unmountAll, type OverlayDirs } from './overlay';
import { assertValidHostname, assertValidId, cgroupsPathOf, containerIdOf, type SandboxPaths } from './paths';
import { defaultSeccompProfile } from './seccomp';
import { readSpec, readStart, writeJsonAtomic, writeStart, type SavedSpec, type SavedStart } from './store';
import { sandboxPathComponents } from './safe-path';
import { launchAgent, prepareAgent, removeAgentDir } from './agent/index';
import { toolsMount } from './tools/mount';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long processes get between SIGTERM and SIGKILL on stop. */
export const STOP_GRACE_MS = 2000;

function assertResources(spec: CreateSpec): void {
  const r = spec.resources;
  for (const key of ['vcpus', 'memoryGiB', 'diskGiB', 'pids'] as const) {
    if (typeof r?.[key] !== 'number' || !Number.isFinite(r[key]) || r[key] <= 0) {
      throw new ProviderError(`invalid resources.${key}: ${JSON.stringify(r?.[key])} (must be a positive number)`);
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined)) !== undefined;
}

/** Files every sandbox starts with in its own layer; written once, so edits inside persist. */
async function seedUpper(upper: string, hostname: string, lowerDirs: string[]): Promise<void> {
  const uid = SANDBOX_UID_BASE;
  const ensureDir = async (rel: string) => {
    const dir = join(upper, rel);
    if (await exists(dir)) return;
    await mkdir(dir, { mode: 0o755 });
    await chown(dir, uid, uid);
  };
  const seedFile = async (rel: string, content: string) => {
    const file = join(upper, rel);
    if (await exists(file)) return;
    await writeFile(file, content, { mode: 0o644 });
    await chown(file, uid, uid);
  };
  // /workspace normally comes with the base; a base without it gets one here.
  const lowerHasWorkspace = (await Promise.all(lowerDirs.map((d) => exists(join(d, 'workspace'))))).some(Boolean);
  if (!lowerHasWorkspace) await ensureDir('workspace');
  await ensureDir('etc');
  await seedFile('etc/hostname', `${hostname}\n`);
  await seedFile('etc/hosts', `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t${hostname}\n`);
}

function overlayDirs(ctx: LocalContext, p: SandboxPaths, base: string, onDisk: boolean): OverlayDirs {
  return { lower: ctx.images.rootfs(base), upper: p.upper(onDisk), work: p.work(onDisk), target: p.rootfs };
}

/** Made before sandboxes had a disk image: its layer is a plain dir, kept working as it is. */
async function isLegacyLayout(p: SandboxPaths): Promise<boolean> {
  return !(await exists(p.diskImage)) && (await exists(p.upper(false)));
}

/** `gvisorPlatform`: where a gVisor sandbox will run (the caller has checked gVisor works here). */
export async function createSandbox(ctx: LocalContext, spec: CreateSpec, gvisorPlatform?: GvisorPlatform): Promise<void> {
  assertValidId(spec.id);
  assertValidHostname(spec.hostname);
  assertResources(spec);
  const isolation = spec.isolation ?? 'standard';
  const p = ctx.paths.sandbox(spec.id);
  // Throws UnknownBaseError for a base nobody knows; builds a known one once.
  if (!(await ctx.images.isReady(spec.base))) await ctx.images.ensure(spec.base);
  const existing = await readSpec(p);
  if (existing && (existing.isolation ?? 'standard') !== isolation) {
    throw new ProviderError(`sandbox ${spec.id} already exists with isolation ${existing.isolation ?? 'standard'}; the level cannot change`);
  }
  if (!existing) {
    await mkdir(p.dir, { recursive: true, mode: 0o700 });
    const saved: SavedSpec = {
      id: spec.id,
      hostname: spec.hostname,
      base: spec.base,
      resources: { ...spec.resources },
      isolation,
      ...(isolation === 'gvisor' ? { platform: gvisorPlatform ?? 'ptrace' } : {}),
      createdAt: new Date().toISOString(),
    };
    await writeJsonAtomic(p.spec, saved);
  }
  // A repeated create of an existing sandbox (maybe running) keeps its disk and files.
  if (await isLegacyLayout(p)) return;
  await createDiskImage(p.diskImage, (await readSpec(p))!.resources.diskGiB);
}

/** Mounts the sandbox's disk and makes its layer ready for the overlay. Returns the overlay's dirs. */
async function prepareLayers(ctx: LocalContext, p: SandboxPaths, spec: SavedSpec): Promise<OverlayDirs> {
  const onDisk = !(await isLegacyLayout(p));
  if (onDisk) {
    // Made here when a crash hit the create between its spec and its image.
    await createDiskImage(p.diskImage, spec.resources.diskGiB);
    await mountDisk(p.diskImage, p.diskMount);
  }
  const dirs = overlayDirs(ctx, p, spec.base, onDisk);
  await prepareOverlayDirs(dirs, SANDBOX_UID_BASE);
  await seedUpper(dirs.upper, spec.hostname, ctx.images.lowerDirs(spec.base));
  return dirs;
}

/** The spec of an existing sandbox, or SandboxMissingError. */
export async function requireSpec(ctx: LocalContext, id: string): Promise<SavedSpec> {
  assertValidId(id);
  const spec = await readSpec(ctx.paths.sandbox(id));
  if (!spec) throw new SandboxMissingError(id);
  return spec;
}

function checkVolumes(volumes: VolumeMount[]): VolumeMount[] {
  return volumes.map((v) => {
    if (typeof v.hostPath !== 'string' || !v.hostPath.startsWith('/')) {
      throw new ProviderError(`volume host path must be absolute: ${JSON.stringify(v.hostPath)}`);
    }
    const parts = sandboxPathComponents(v.path);
    if (['proc', 'sys', 'dev'].includes(parts[0]!)) throw new PathEscapeError(v.path, 'cannot mount a volume over a kernel filesystem');
    return { hostPath: v.hostPath, path: '/' + parts.join('/'), ...(v.readOnly ? { readOnly: true } : {}) };
  });
}

/** Merges a StartSpec into what is saved: given fields replace, missing ones are kept. */
export async function saveStartSpec(ctx: LocalContext, id: string, spec: StartSpec | undefined): Promise<SavedStart> {
  const p = ctx.paths.sandbox(id);
  const saved = await readStart(p);
  if (!spec || (spec.env === undefined && spec.volumes === undefined)) return saved;
  const next: SavedStart = {
    env: spec.env !== undefined ? { ...spec.env } : saved.env,
    volumes: spec.volumes !== undefined ? checkVolumes(spec.volumes) : saved.volumes,
  };
  for (const key of Object.keys(next.env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new ProviderError(`invalid environment variable name ${JSON.stringify(key)}`);
  }
  await writeStart(p, next);
  return next;
}

/**
 * Brings a stopped sandbox up: overlay, bundle, `create`, network into the new
 * netns, `start`. On failure everything started here is torn down again.
 */
/**
 * runsc puts a tmpfs on an empty /tmp of its own accord: files the host writes into /tmp would
 * not be seen, and /tmp would come and go with its contents. Binding the sandbox's own /tmp
 * over it keeps /tmp on the sandbox's disk, as at the standard level. The sandbox is not
 * running, so the check that /tmp is a real directory (never a symlink to a host path, which
 * runsc would resolve on the host) cannot race with it.
 */
async function gvisorTmpMount(rootfs: string): Promise<OciMount> {
  const tmp = join(rootfs, 'tmp');
  const st = await lstat(tmp).catch(() => undefined);
  if (!st?.isDirectory()) {
    await rm(tmp, { force: true, recursive: true });
    await mkdir(tmp);
    await chown(tmp, SANDBOX_UID_BASE, SANDBOX_UID_BASE);
    await chmod(tmp, 0o1777);
  }
  return { destination: '/tmp', type: 'bind', source: tmp, options: ['rbind', 'rw', 'nosuid', 'nodev'] };
}

/** Refuses what a gVisor sandbox cannot do before anything is made (see README, capability × isolation). */
export function assertGvisorCanStart(id: string, start: SavedStart): void {
  if (start.volumes.length > 0) {
    throw new UnsupportedCapabilityError(
      'local',
      'volumes in gVisor sandboxes',
      `sandbox ${id} is isolated with gVisor, and runsc 20221219 rejects the idmapped bind mounts volumes need ("unknown mount option idmap"); ` +
        'without them a volume would be read-only and owned by nobody inside. Remove its volumes, or use a standard sandbox for volumes',
    );
  }
}

export async function bootSandbox(ctx: LocalContext, spec: SavedSpec, start: SavedStart): Promise<number> {
  const p = ctx.paths.sandbox(spec.id);
  const cid = containerIdOf(spec.id);
  const runtime = runtimeFor(ctx, spec.id, spec);
  const gvisor = runtime instanceof GvisorRuntime;
  if (gvisor) assertGvisorCanStart(spec.id, start);
  try {
    if (!(await ctx.images.isReady(spec.base))) await ctx.images.ensure(spec.base);
    for (const v of start.volumes) {
      const st = await lstat(v.hostPath).catch(() => undefined);
      if (!st?.isDirectory()) throw new ProviderError(`volume host path ${v.hostPath} is not a directory`);
    }
    await mountOverlay(await prepareLayers(ctx, p, spec));
    const agentMounts = [...(await prepareAgent(p)), ...(gvisor ? [...(await statxCompatMounts()), await gvisorTmpMount(p.rootfs)] : [])];
    const config = sandboxConfig({
      id: spec.id,
      hostname: spec.hostname,
      rootfs: p.rootfs,
      resources: spec.resources,
      env: envList(baseEnv(spec.hostname), start.env),
      volumes: start.volumes,
      cgroupsPath: cgroupsPathOf(spec.id),
      initBinary: ctx.initBinary,
      seccomp: defaultSeccompProfile(DEFAULT_CAPABILITIES),
      limitSwap: canLimitSwap(),
      extraMounts: [...agentMounts, await toolsMount()],
    });
    await writeFile(p.config, JSON.stringify(config), { mode: 0o600 });
    const pidFile = join(p.dir, 'init.pid');
    await rm(pidFile, { force: true });
    await runtime.create(cid, p.dir, p.runtimeLog, pidFile);
    const initPid = Number((await readFile(pidFile, 'utf8')).trim());
    await ctx.hostNetworkReady();
    await ctx.networks.attach(spec.id, initPid);
    await runtime.start(cid, initPid);
    // Best effort: without the agent (a base without perl…) exec falls back to the runtime's exec.
    await launchAgent(runtime, p, envList(baseEnv(spec.hostname), {})).catch(() => undefined);
    return initPid;
  } catch (err) {
    await teardown(ctx, spec.id, 0).catch(() => undefined);
    throw err;
  }
}

/**
 * Ends every process of the sandbox and removes its running host objects
 * (container, network, mounts, cgroups); the sandbox's files stay. Idempotent.
 */
/** The runtimes that may hold a container of `id`: its own, or every one when its spec is unreadable. */
async function runtimesHolding(ctx: LocalContext, id: string): Promise<SandboxRuntime[]> {
  const spec = await readSpec(ctx.paths.sandbox(id)).catch(() => undefined);
  if (spec) {
    try {
      return [runtimeFor(ctx, id, spec)];
    } catch {
      return []; // its runtime is gone (runsc uninstalled): the cgroup sweep below ends what is left
    }
  }
  const gvisor = ctx.gvisor('ptrace');
  return gvisor ? [ctx.runtime, gvisor] : [ctx.runtime];
}

/**
 * TERM to every process but the init (the init exiting would make the kernel SIGKILL the
 * rest at once, leaving them no time to clean up), then KILL to all after `graceMs`.
 */
async function endProcesses(runtime: SandboxRuntime, id: string, initPid: number, graceMs: number): Promise<void> {
  const cid = containerIdOf(id);
  if (runtime instanceof GvisorRuntime) {
    // The sandbox's processes live in gVisor's kernel: the host's cgroup only holds gVisor itself.
    if (graceMs > 0) {
      await runtime.signalAllButInit(cid, 'TERM');
      const deadline = Date.now() + graceMs;
      while ((await runtime.pidsInside(cid)).length > 1 && Date.now() < deadline) await sleep(100);
    }
  } else {
    const others = async () => (await sandboxPids(id)).filter((pid) => pid !== initPid);
    let left = await others();
    for (const pid of left) signal(pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (left.length > 0 && Date.now() < deadline) {
      await sleep(20);
      left = await others();
    }
  }
  await runtime.kill(cid, 'KILL', true);
}

export async function teardown(ctx: LocalContext, id: string, graceMs = STOP_GRACE_MS): Promise<void> {
  const cid = containerIdOf(id);
  for (const runtime of await runtimesHolding(ctx, id)) {
    const state = await runtime.state(cid);
    if (state?.status === 'running' || state?.status === 'paused') await endProcesses(runtime, id, state.pid, graceMs);
    if (state) await runtime.delete(cid, true);
  }
  await ctx.networks.detach(id);
  await removeMountPoint(ctx.paths.sandbox(id).rootfs);
  await unmountDisk(ctx.paths.sandbox(id).diskMount, ctx.paths.sandbox(id).diskImage);
  await removeSandboxCgroups(id);
  await rm(ctx.paths.sandbox(id).execDir, { recursive: true, force: true });
  await removeAgentDir(ctx.paths.sandbox(id));
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/** Removes everything the sandbox owns. Safe on a half-created or missing sandbox. */
export async function destroySandbox(ctx: LocalContext, id: string): Promise<void> {
  assertValidId(id);
  await teardown(ctx, id, 0);
  const p = ctx.paths.sandbox(id);
  if (!(await exists(p.dir))) return;
  await mkdir(ctx.paths.trash, { recursive: true, mode: 0o700 });
  const trashed = join(ctx.paths.trash, `${id}-${randomBytes(4).toString('hex')}`);
  // Rename first: a crash in the middle of rm leaves a trash entry, never a half sandbox.
  await rename(p.dir, trashed);
  await emptyTrashEntry(trashed);
}

export async function emptyTrashEntry(dir: string): Promise<void> {
  await unmountAll(dir);
  await detachLoopsUnder(dir);
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** Checks all paths before anything is written: one bad path writes nothing. */
export function checkFiles(files: FileToWrite[]): { file: FileToWrite; parts: string[] }[] {
  return files.map((file) => {
    const parts = sandboxPathComponents(file.path);
    const mode = file.mode ?? 0o644;
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new ProviderError(`invalid mode ${mode} for ${file.path}`);
    return { file, parts };
  });
}
