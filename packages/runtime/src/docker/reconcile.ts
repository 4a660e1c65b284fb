/**
 * What exists in the engine, by our labels, and the cleanup of what a crash left half done:
 * an interrupted container re-make (lifecycle.ts), committed images of deleted sandboxes, and
 * volumes whose host directory the server has removed. Sandboxes without a server record are
 * the server's to delete (its reconcile sees them in `list`), as with the local provider.
 */
import type Dockerode from 'dockerode';
import type { ObservedSandbox, ObservedState } from '../provider/types';
import { containerName, LABEL_OWNER, LABEL_SANDBOX } from './labels';
import { NEXT_SUFFIX } from './lifecycle';
import { NETWORK_NAME } from './network';
import { pruneVolumes } from './volumes';

export function stateOf(info: Dockerode.ContainerInspectInfo): ObservedState {
  return info.State.Running && !info.State.Paused ? 'running' : 'stopped';
}

function reasonOf(info: Dockerode.ContainerInspectInfo): string | undefined {
  if (info.State.Running) return undefined;
  if (info.State.OOMKilled) return 'the init was killed for going over the memory limit';
  if (info.State.Error) return info.State.Error;
  return undefined;
}

export function observeOne(info: Dockerode.ContainerInspectInfo | undefined, id: string): ObservedSandbox {
  if (!info) return { id, state: 'missing' };
  const state = stateOf(info);
  const address = state === 'running' ? info.NetworkSettings.Networks?.[NETWORK_NAME]?.IPAddress || undefined : undefined;
  const reason = reasonOf(info);
  return { id, state, ...(reason ? { reason } : {}), ...(address ? { address } : {}) };
}

/** Containers of sandboxes that belong to `owner` (this provider instance). */
function ownContainers(docker: Dockerode, owner: string) {
  return docker.listContainers({ all: true, filters: { label: [LABEL_SANDBOX, `${LABEL_OWNER}=${owner}`] } });
}

export async function observeAll(docker: Dockerode, owner: string): Promise<ObservedSandbox[]> {
  const containers = await ownContainers(docker, owner);
  return containers
    .filter((c) => !c.Names.some((n) => n.endsWith(NEXT_SUFFIX)))
    .map((c) => {
      const id = c.Labels[LABEL_SANDBOX]!;
      const running = c.State === 'running';
      const address = running ? c.NetworkSettings?.Networks?.[NETWORK_NAME]?.IPAddress || undefined : undefined;
      return { id, state: running ? ('running' as const) : ('stopped' as const), ...(address ? { address } : {}) };
    });
}

export async function reconcileLeftovers(docker: Dockerode, owner: string): Promise<void> {
  const containers = await ownContainers(docker, owner);
  const names = new Set(containers.flatMap((c) => c.Names.map((n) => n.replace(/^\//, ''))));
  for (const c of containers) {
    const name = c.Names.map((n) => n.replace(/^\//, '')).find((n) => n.endsWith(NEXT_SUFFIX));
    if (!name) continue;
    const final = containerName(c.Labels[LABEL_SANDBOX]!);
    // The old container still there: the re-make did not get to remove it; it stays the sandbox.
    if (names.has(final)) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    else await docker.getContainer(c.Id).rename({ name: final }).catch(() => undefined);
  }
  // Committed images belong to whichever server's sandbox has that id: only an id without any container is garbage.
  const all = await docker.listContainers({ all: true, filters: { label: [LABEL_SANDBOX] } });
  const ids = new Set(all.map((c) => c.Labels[LABEL_SANDBOX]!));
  const committed = await docker.listImages({ filters: { reference: ['pocketenv-sandbox'] } });
  for (const image of committed) {
    for (const tag of image.RepoTags ?? []) {
      const id = tag.slice(tag.indexOf(':') + 1);
      if (!ids.has(id)) await docker.getImage(tag).remove().catch(() => undefined);
    }
  }
  await pruneVolumes(docker);
}
