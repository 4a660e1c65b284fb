/**
 * Volumes as Docker volumes that outlive their sandboxes: one named volume per host directory
 * the server gives (`pocketenv-vol-<hash of the path>`, the `local` driver binding that
 * directory), so the data lives where the server keeps volume data and survives any container.
 * Binding a host directory needs the engine on this host; a remote engine has no volumes.
 *
 * With user namespace remapping, the container's root is an unprivileged host uid: the
 * volume's top directory is given to that uid so the sandbox can enter and write it (files the
 * host put there stay the host's: readable when their mode allows, never writable inside).
 */
import { createHash } from 'node:crypto';
import { chown, lstat } from 'node:fs/promises';
import type Dockerode from 'dockerode';
import { ProviderError } from '../provider/errors';
import type { VolumeMount } from '../provider/types';
import { LABEL_HOST_PATH, LABEL_MANAGED } from './labels';

export function volumeName(hostPath: string): string {
  return `pocketenv-vol-${createHash('sha256').update(hostPath).digest('hex').slice(0, 24)}`;
}

/** Creates (idempotently) the docker volumes of `volumes`; returns what the container mounts. */
export async function ensureVolumes(
  docker: Dockerode,
  volumes: VolumeMount[],
  remappedRoot: { uid: number; gid: number } | undefined,
): Promise<{ name: string; path: string; readOnly: boolean }[]> {
  const mounts = [];
  for (const v of volumes) {
    const st = await lstat(v.hostPath).catch(() => undefined);
    if (!st?.isDirectory()) throw new ProviderError(`volume host path ${v.hostPath} is not a directory`);
    if (remappedRoot && (st.uid !== remappedRoot.uid || st.gid !== remappedRoot.gid)) {
      await chown(v.hostPath, remappedRoot.uid, remappedRoot.gid);
    }
    const name = volumeName(v.hostPath);
    // Creating an existing volume with the same options returns it: idempotent by name.
    await docker.createVolume({
      Name: name,
      Driver: 'local',
      DriverOpts: { type: 'none', o: 'bind', device: v.hostPath },
      Labels: { [LABEL_MANAGED]: 'true', [LABEL_HOST_PATH]: v.hostPath },
    });
    mounts.push({ name, path: v.path, readOnly: v.readOnly === true });
  }
  return mounts;
}

/** The volumes a container mounts, as VolumeMounts (host path from the volume's label). */
export function mountedVolumes(info: Dockerode.ContainerInspectInfo, hostPathOf: Map<string, string>): VolumeMount[] {
  return (info.Mounts ?? [])
    .filter((m) => m.Type === 'volume' && m.Name && hostPathOf.has(m.Name))
    .map((m) => ({ hostPath: hostPathOf.get(m.Name!)!, path: m.Destination, ...(m.RW ? {} : { readOnly: true }) }));
}

/** Our volumes: name → host path. */
export async function ourVolumes(docker: Dockerode): Promise<Map<string, string>> {
  const { Volumes } = await docker.listVolumes({ filters: { label: [LABEL_MANAGED] } });
  return new Map((Volumes ?? []).filter((v) => v.Labels?.[LABEL_HOST_PATH]).map((v) => [v.Name, v.Labels[LABEL_HOST_PATH]!]));
}

/**
 * Removes our volumes whose host directory is gone (the server deleted the volume's data) and
 * that no container uses; the engine refuses (409) to remove one in use, which is fine.
 */
export async function pruneVolumes(docker: Dockerode): Promise<void> {
  for (const [name, hostPath] of await ourVolumes(docker)) {
    if (await lstat(hostPath).catch(() => undefined)) continue;
    await docker.getVolume(name).remove().catch(() => undefined);
  }
}
