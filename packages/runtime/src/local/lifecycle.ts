/**
 * create / start / stop / delete of one sandbox, as a sequence of idempotent steps.
 *
 * Ordering is what makes crashes recoverable: spec.json first (so the id is known),
 * then host objects; teardown removes host objects (container, network, mounts,
 * cgroups) before the files, and the files go by renaming the sandbox dir into
 * the trash first. Every step can be repeated, so "run it again" is the recovery
 * for any interruption.
 */
import { chown, lstat, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { CreateSpec, StartSpec } from '../provider/types';
import { ProviderError, SandboxMissingError } from '../provider/errors';
import type { LocalContext } from './context';
import { canLimitSwap } from './context';
import { removeSandboxCgroups, sandboxPids } from './cgroups';
import { baseEnv, envList, sandboxConfig, SANDBOX_UID_BASE, DEFAULT_CAPABILITIES } from './oci-config';
import { createDiskImage, detachLoopsUnder, mountDisk, unmountDisk } from './disk';
import { mountOverlay, prepareOverlayDirs, removeMountPoint, unmountAll, type OverlayDirs } from './overlay';
import { assertResources, assertValidHostname, assertValidId, checkEnvNames, checkVolumes } from '../shared/sandbox-input';
import { cgroupsPathOf, containerIdOf, type SandboxPaths } from './paths';
import { defaultSeccompProfile } from './seccomp';
import { readSpec, readStart, writeJsonAtomic, writeStart, type SavedSpec, type SavedStart } from './store';
import { launchAgent, prepareAgent, removeAgentDir } from './agent/index';
import { toolsMount } from './tools/mount';

/** Checks all paths before anything is written: one bad path writes nothing. */
export { checkFiles } from '../shared/sandbox-input';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long processes get between SIGTERM and SIGKILL on stop. */
export const STOP_GRACE_MS = 2000;

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

export async function createSandbox(ctx: LocalContext, spec: CreateSpec): Promise<void> {
  assertValidId(spec.id);
  assertValidHostname(spec.hostname);
  assertResources(spec);
  const p = ctx.paths.sandbox(spec.id);
  // Throws UnknownBaseError for a base nobody knows; builds a known one once.
  if (!(await ctx.images.isReady(spec.base))) await ctx.images.ensure(spec.base);
  if (!(await readSpec(p))) {
    await mkdir(p.dir, { recursive: true, mode: 0o700 });
    const saved: SavedSpec = {
      id: spec.id,
      hostname: spec.hostname,
      base: spec.base,
      resources: { ...spec.resources },
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

/** Merges a StartSpec into what is saved: given fields replace, missing ones are kept. */
export async function saveStartSpec(ctx: LocalContext, id: string, spec: StartSpec | undefined): Promise<SavedStart> {
  const p = ctx.paths.sandbox(id);
  const saved = await readStart(p);
  if (!spec || (spec.env === undefined && spec.volumes === undefined)) return saved;
  const next: SavedStart = {
    env: spec.env !== undefined ? { ...spec.env } : saved.env,
    volumes: spec.volumes !== undefined ? checkVolumes(spec.volumes) : saved.volumes,
  };
  checkEnvNames(next.env);
  await writeStart(p, next);
  return next;
}

/**
 * Brings a stopped sandbox up: overlay, bundle, `create`, network into the new
 * netns, `start`. On failure everything started here is torn down again.
 */
export async function bootSandbox(ctx: LocalContext, spec: SavedSpec, start: SavedStart): Promise<number> {
  const p = ctx.paths.sandbox(spec.id);
  const cid = containerIdOf(spec.id);
  try {
    if (!(await ctx.images.isReady(spec.base))) await ctx.images.ensure(spec.base);
    for (const v of start.volumes) {
      const st = await lstat(v.hostPath).catch(() => undefined);
      if (!st?.isDirectory()) throw new ProviderError(`volume host path ${v.hostPath} is not a directory`);
    }
    await mountOverlay(await prepareLayers(ctx, p, spec));
    const agentMounts = await prepareAgent(p);
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
      extraMounts: [...agentMounts, await toolsMount(ctx.toolsDir)],
    });
    await writeFile(p.config, JSON.stringify(config), { mode: 0o600 });
    const pidFile = join(p.dir, 'init.pid');
    await rm(pidFile, { force: true });
    await ctx.runtime.create(cid, p.dir, p.runtimeLog, pidFile);
    const initPid = Number((await readFile(pidFile, 'utf8')).trim());
    await ctx.hostNetworkReady();
    await ctx.networks.attach(spec.id, initPid);
    await ctx.runtime.start(cid);
    // Best effort: without the agent (a base without perl…) exec falls back to the runtime's exec.
    await launchAgent(ctx, p, envList(baseEnv(spec.hostname), {})).catch(() => undefined);
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
export async function teardown(ctx: LocalContext, id: string, graceMs = STOP_GRACE_MS): Promise<void> {
  const cid = containerIdOf(id);
  const state = await ctx.runtime.state(cid);
  if (state?.status === 'running' || state?.status === 'paused') {
    // TERM goes to every process but the init: the init exiting would make the
    // kernel SIGKILL the rest at once, leaving them no time to clean up.
    const others = async () => (await sandboxPids(id)).filter((pid) => pid !== state.pid);
    let left = await others();
    for (const pid of left) signal(pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (left.length > 0 && Date.now() < deadline) {
      await sleep(20);
      left = await others();
    }
    await ctx.runtime.kill(cid, 'KILL', true);
  }
  if (state) await ctx.runtime.delete(cid, true);
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

