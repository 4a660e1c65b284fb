/**
 * Fork: a new sandbox whose filesystem is a copy of another's at one instant. The sandbox's
 * files live in one disk image (disk.img), so the copy is a sparse copy of that file (a reflink
 * where the host filesystem supports it): its cost is the data written, not the disk size.
 *
 * A running source is frozen (cgroup freezer) for the copy and its filesystem synced first, so
 * nothing writes while the image is read and the copy is consistent; it is thawed right after.
 * Crash safety: the copy is written under a temporary name and the spec (what makes a sandbox
 * exist) is written last; a sandbox dir without spec is removed by reconciliation, and a source
 * left frozen is reported `paused`, which the server's reconciliation resumes.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import type { CreateSpec } from '../provider/types';
import { ProviderError } from '../provider/errors';
import { runCommand } from './command';
import type { LocalContext } from './context';
import { isLegacyLayout, requireSpec } from './lifecycle';
import { assertValidHostname, assertValidId, containerIdOf } from './paths';
import { readSpec, writeJsonAtomic, type SavedSpec } from './store';

export async function forkSandbox(ctx: LocalContext, sourceId: string, spec: CreateSpec): Promise<void> {
  assertValidId(spec.id);
  assertValidHostname(spec.hostname);
  const source = await requireSpec(ctx, sourceId);
  const from = ctx.paths.sandbox(sourceId);
  const to = ctx.paths.sandbox(spec.id);
  if (await readSpec(to).catch(() => undefined)) return; // already forked (a repeated call)
  if (await isLegacyLayout(from)) {
    throw new ProviderError(`sandbox ${sourceId} predates disk images and cannot be forked; copy its files instead`);
  }
  await mkdir(to.dir, { recursive: true, mode: 0o700 });
  const partial = `${to.diskImage}.partial`;
  const cid = containerIdOf(sourceId);
  const state = await ctx.runtime.state(cid);
  const live = state?.status === 'running' || state?.status === 'paused';
  const freeze = state?.status === 'running';
  if (freeze) await ctx.runtime.pause(cid);
  try {
    // Writes made before the freeze may still sit in the page cache: flush them into the image.
    if (live) await mustRun('sync', ['-f', from.diskMount]);
    await mustRun('cp', ['--sparse=always', '--reflink=auto', from.diskImage, partial]);
  } catch (err) {
    await rm(to.dir, { recursive: true, force: true });
    throw err;
  } finally {
    if (freeze) await ctx.runtime.resume(cid);
  }
  await rename(partial, to.diskImage);
  const saved: SavedSpec = { id: spec.id, hostname: spec.hostname, base: source.base, resources: { ...source.resources }, createdAt: new Date().toISOString() };
  await writeJsonAtomic(to.spec, saved);
}

async function mustRun(file: string, args: string[]): Promise<void> {
  const result = await runCommand(file, args);
  if (result.code !== 0) throw new ProviderError(`${file} ${args.join(' ')} failed: ${result.stderr.trim()}`);
}
