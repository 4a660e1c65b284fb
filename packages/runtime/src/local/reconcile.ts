/**
 * What exists, and cleaning up after a driver that died (kill -9, power loss).
 *
 * The truth is on disk and in the kernel, never in memory: sandbox dirs (spec.json),
 * the runtime's containers under our --root, mounts, cgroups, network allocations.
 * A new driver adopts running sandboxes as they are and brings everything else
 * back to a clean "stopped" (or, for a sandbox without spec, "gone").
 */
import { readdir, readFile, readlink, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ObservedSandbox } from '../provider/types';
import { runtimeFor, type LocalContext } from './context';
import { killSessionTree } from './exec';
import { destroySandbox, emptyTrashEntry, teardown } from './lifecycle';
import { unmountAll } from './overlay';
import { CGROUP_PARENT, containerIdOf, sandboxIdOfContainer } from './paths';
import { sandboxPids } from './cgroups';
import { readSpec, sandboxDirIds } from './store';
import type { ContainerState } from './oci-runtime';

/** Containers of every runtime this provider drives (crun/runc, and runsc when installed). */
async function allContainers(ctx: LocalContext): Promise<ContainerState[]> {
  const gvisor = ctx.gvisor('ptrace'); // listing reads runsc's state files: the platform does not matter
  const [standard, isolated] = await Promise.all([ctx.runtime.list(), gvisor ? gvisor.list() : Promise.resolve([])]);
  return [...standard, ...isolated];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface HostProcess {
  pid: number;
  argv: string[];
}

/**
 * Processes whose command line names our state dir (runtime calls, mounts, execs),
 * except our own children (a live driver: this process) and container inits.
 */
async function processesUsing(stateDir: string): Promise<HostProcess[]> {
  const found: HostProcess[] = [];
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const raw = await readFile(`/proc/${pid}/cmdline`).catch(() => undefined);
    if (!raw || raw.length === 0) continue;
    const argv = raw.toString('utf8').split('\0').filter(Boolean);
    if (!argv.some((a) => a === stateDir || a.startsWith(stateDir + '/'))) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === process.pid) continue;
    // A container's init waiting for `start` still carries the runtime's command
    // line; it is part of a container (handled below), not a command in flight.
    const cgroups = await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '');
    if (cgroups.includes(`/${CGROUP_PARENT}/`)) continue;
    found.push({ pid, argv });
  }
  return found;
}

/**
 * A dead driver may leave runtime commands in flight (a `create` finishing after we
 * looked would leak a container) and execs whose output nobody reads. Execs are
 * killed with their process tree; everything else is waited for.
 */
async function settleStrayProcesses(ctx: LocalContext): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const stray = await processesUsing(ctx.paths.stateDir);
    if (stray.length === 0) return;
    for (const proc of stray) {
      if (proc.argv.includes('exec') && proc.argv.includes('--process') && (await isRunsc(proc.pid))) {
        await endGvisorExec(ctx, proc);
      } else if (proc.argv.includes('exec') && proc.argv.includes('--process')) {
        const sandboxId = sandboxIdOfContainer(proc.argv[proc.argv.length - 1] ?? '');
        const at = proc.argv.indexOf('--pid-file');
        const pidFile = at >= 0 ? proc.argv[at + 1] : undefined;
        await killSessionTree(proc.pid, () => (sandboxId ? sandboxPids(sandboxId) : Promise.resolve([])), pidFile);
      }
    }
    if (Date.now() > deadline) {
      throw new Error(`processes of a previous driver still use ${ctx.paths.stateDir}: ${stray.map((p) => p.pid).join(', ')}`);
    }
    await sleep(50);
  }
}

/** runsc re-executes itself as /proc/self/exe, so its binary is found through the exe link. */
async function isRunsc(pid: number): Promise<boolean> {
  return basename(await readlink(`/proc/${pid}/exe`).catch(() => '')) === 'runsc';
}

/**
 * A `runsc exec` of a dead driver: its command lives in gVisor's kernel, so its process group
 * is killed from inside (when runsc wrote its pid there), then the host process. The waiting
 * runsc of the exec agent (started with --detach, no internal pid file) goes too; the agent
 * itself keeps serving inside the sandbox.
 */
async function endGvisorExec(ctx: LocalContext, proc: HostProcess): Promise<void> {
  const at = proc.argv.indexOf('--internal-pid-file');
  const inside = at >= 0 ? Number((await readFile(proc.argv[at + 1]!, 'utf8').catch(() => '')).trim()) : 0;
  const runsc = ctx.gvisor('ptrace'); // signalling a running sandbox: its platform does not matter
  if (inside > 1 && runsc) await runsc.signalGroupInside(proc.argv[proc.argv.length - 1]!, inside, 'KILL');
  try {
    process.kill(proc.pid, 'SIGKILL');
  } catch {
    /* gone meanwhile */
  }
}

/** Brings the state dir back to "every sandbox is running or cleanly stopped". */
export async function reconcile(ctx: LocalContext): Promise<void> {
  await settleStrayProcesses(ctx);
  for (const entry of await readdir(ctx.paths.trash).catch(() => [])) {
    await emptyTrashEntry(join(ctx.paths.trash, entry));
  }
  const containers = await allContainers(ctx);
  const running = new Set<string>();
  for (const c of containers) {
    const id = sandboxIdOfContainer(c.id);
    if (!id) continue;
    const spec = await readSpec(ctx.paths.sandbox(id)).catch(() => undefined);
    if (!spec) {
      // A container nobody has a spec for can only be debris: remove it completely.
      await destroySandbox(ctx, id);
    } else if (c.status === 'running') {
      running.add(id);
    } else {
      // created (start was interrupted) or stopped (init died): back to a clean stop.
      await teardown(ctx, id, 0);
    }
  }
  for (const id of await sandboxDirIds(ctx.paths)) {
    if (running.has(id)) {
      await rm(ctx.paths.sandbox(id).execDir, { recursive: true, force: true });
      continue;
    }
    const spec = await readSpec(ctx.paths.sandbox(id)).catch(() => undefined);
    if (!spec) {
      // The crash hit between mkdir and the spec write: nothing else can exist yet.
      await unmountAll(ctx.paths.sandbox(id).dir);
      await rm(ctx.paths.sandbox(id).dir, { recursive: true, force: true });
      continue;
    }
    await teardown(ctx, id, 0);
  }
}

function observed(id: string, container: ContainerState | undefined, hasSpec: boolean, address?: string): ObservedSandbox {
  if (!hasSpec && !container) return { id, state: 'missing' };
  if (!hasSpec) return { id, state: container!.status === 'running' ? 'running' : 'stopped', reason: 'container without a spec (leftover; delete it)' };
  if (!container) return { id, state: 'stopped' };
  switch (container.status) {
    case 'running':
      return { id, state: 'running', ...(address ? { address } : {}) };
    case 'paused':
      return { id, state: 'running', reason: 'paused' };
    case 'created':
    case 'creating':
      return { id, state: 'stopped', reason: 'start was interrupted before the init ran' };
    default:
      return { id, state: 'stopped', reason: 'init exited' };
  }
}

/** `known`: the container's state when the caller already knows it (saves the runtime's `state` spawn). */
export async function observeOne(ctx: LocalContext, id: string, known?: ContainerState): Promise<ObservedSandbox> {
  const spec = await readSpec(ctx.paths.sandbox(id)).catch(() => undefined);
  const container = known ?? (await (spec ? runtimeFor(ctx, id, spec) : ctx.runtime).state(containerIdOf(id)));
  const address = container?.status === 'running' ? (await ctx.networks.addressOf(id))?.sandboxIp : undefined;
  return observed(id, container, spec !== undefined, address);
}

export async function observeAll(ctx: LocalContext): Promise<ObservedSandbox[]> {
  const containers = new Map<string, ContainerState>();
  for (const c of await allContainers(ctx)) {
    const id = sandboxIdOfContainer(c.id);
    if (id) containers.set(id, c);
  }
  const ids = new Set([...(await sandboxDirIds(ctx.paths)), ...containers.keys()]);
  const out: ObservedSandbox[] = [];
  for (const id of [...ids].sort()) {
    const spec = await readSpec(ctx.paths.sandbox(id)).catch(() => undefined);
    const container = containers.get(id);
    const address = container?.status === 'running' ? (await ctx.networks.addressOf(id))?.sandboxIp : undefined;
    out.push(observed(id, container, spec !== undefined, address));
  }
  return out;
}
