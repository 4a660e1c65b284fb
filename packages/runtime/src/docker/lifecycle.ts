/**
 * Containers of sandboxes: what the engine can do, making one, re-making one with other
 * volumes (its files kept), removing one with everything it owns.
 *
 * Re-making is crash-safe: the new container is created as `<name>.next` first, then the old
 * one is removed and the new one renamed; reconcile.ts finishes or undoes a re-make a crash
 * interrupted (either name alone is a whole sandbox).
 */
import type Dockerode from 'dockerode';
import { ProviderError } from '../provider/errors';
import type { CreateSpec, VolumeMount } from '../provider/types';
import { containerOptions, type ContainerInput } from './container-spec';
import { containerName, LABEL_SPEC, sandboxImageRef } from './labels';

export interface EngineFacts {
  storageDriver: string;
  /** The storage driver enforces a per-container size (StorageOpt size). */
  diskQuota: boolean;
  /** Host uid/gid of the container's root when the engine remaps user namespaces. */
  remappedRoot?: { uid: number; gid: number };
}

/** Suffix of a container that is about to replace its sandbox's container. */
export const NEXT_SUFFIX = '.next';
const NEVER_STARTED = '0001-01-01T00:00:00Z';

export async function engineFacts(docker: Dockerode): Promise<EngineFacts> {
  const info = (await docker.info()) as { Driver: string; DriverStatus?: [string, string][]; DockerRootDir: string; SecurityOptions?: string[] };
  const backing = info.DriverStatus?.find(([k]) => k === 'Backing Filesystem')?.[1];
  const diskQuota = info.Driver === 'btrfs' || info.Driver === 'zfs' || (info.Driver === 'overlay2' && backing === 'xfs');
  // With remapping, the engine's data root is `<root>/<uid>.<gid>` (the remapped root's host ids).
  const remap = info.SecurityOptions?.some((o) => o.includes('name=userns')) ? /\/(\d+)\.(\d+)\/?$/.exec(info.DockerRootDir) : null;
  return { storageDriver: info.Driver, diskQuota, ...(remap ? { remappedRoot: { uid: Number(remap[1]), gid: Number(remap[2]) } } : {}) };
}

const statusOf = (err: unknown) => (err as { statusCode?: number }).statusCode;

export async function createContainer(docker: Dockerode, input: ContainerInput, name = containerName(input.spec.id)): Promise<Dockerode.Container> {
  try {
    return await docker.createContainer({ name, ...containerOptions(input) });
  } catch (err) {
    if (statusOf(err) === 409) return docker.getContainer(name); // a concurrent create made it
    const message = (err as { json?: { message?: string } }).json?.message ?? (err as Error).message;
    throw new ProviderError(`the Docker Engine could not create sandbox ${input.spec.id}: ${message}`);
  }
}

/** The CreateSpec a container was made with (from its label). */
export function specOf(info: Dockerode.ContainerInspectInfo): CreateSpec {
  return JSON.parse(info.Config.Labels[LABEL_SPEC] ?? 'null') as CreateSpec;
}

export function sameVolumes(a: VolumeMount[], b: VolumeMount[]): boolean {
  const key = (v: VolumeMount) => `${v.path}\0${v.hostPath}\0${v.readOnly === true}`;
  const ka = a.map(key).sort();
  const kb = b.map(key).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
}

/**
 * Re-makes a stopped sandbox's container with other volume mounts, keeping its files: a
 * container that ever ran is committed to `pocketenv-sandbox:<id>` and the new one starts from
 * that image. Returns the new container's inspect.
 */
export async function replaceContainer(
  docker: Dockerode,
  old: Dockerode.ContainerInspectInfo,
  input: (image: string) => ContainerInput,
): Promise<Dockerode.ContainerInspectInfo> {
  const spec = specOf(old);
  let image = old.Config.Image;
  if (old.State.StartedAt && old.State.StartedAt !== NEVER_STARTED) {
    const ref = sandboxImageRef(spec.id);
    const [repo, tag] = [ref.slice(0, ref.indexOf(':')), ref.slice(ref.indexOf(':') + 1)];
    await docker.getContainer(old.Id).commit({ repo, tag, pause: false, comment: 'pocketenv: files of the sandbox across a volume change' });
    image = ref;
  }
  const final = containerName(spec.id);
  const next = final + NEXT_SUFFIX;
  await docker.getContainer(next).remove({ force: true }).catch(() => undefined); // an earlier attempt's
  const created = await createContainer(docker, input(image), next);
  await docker.getContainer(old.Id).remove({ force: true, v: false });
  await created.rename({ name: final });
  return docker.getContainer(final).inspect();
}

/** Removes the sandbox's container(s) and committed image. Safe to repeat; volumes stay. */
export async function removeSandbox(docker: Dockerode, id: string): Promise<void> {
  for (const name of [containerName(id), containerName(id) + NEXT_SUFFIX]) {
    await docker
      .getContainer(name)
      .remove({ force: true, v: false })
      .catch((err: unknown) => {
        // 404: gone already; 409: a removal is already in progress.
        if (statusOf(err) !== 404 && statusOf(err) !== 409) throw err;
      });
  }
  await docker
    .getImage(sandboxImageRef(id))
    .remove({ force: true })
    .catch((err: unknown) => {
      if (statusOf(err) !== 404) throw err;
    });
}
