/**
 * Volumes: an actor's named, persistent directories, mounted into sandboxes at a path
 * (read-only when asked). The data lives on the host (./storage.ts) and outlives stops,
 * starts, detaching and the deletion of sandboxes; only deleteVolumeData removes it.
 *
 * Mounts are part of the sandbox's start: a volume attached, changed or detached while the
 * sandbox runs takes effect at its next start (the provider has no way to add a mount to a
 * running sandbox safely).
 */
import type { AppContext } from '../context';
import type { Feature } from '../features';
import { registerVolumeMethods } from './methods';
import { VolumeRepository } from './repository';
import { ensureVolumeData } from './storage';

const repositories = new WeakMap<AppContext, VolumeRepository>();

function repositoryOf(ctx: AppContext): VolumeRepository {
  let repo = repositories.get(ctx);
  if (!repo) {
    repo = new VolumeRepository(ctx.db);
    repositories.set(ctx, repo);
  }
  return repo;
}

export const volumesFeature: Feature = {
  name: 'volumes',
  registerXrpc(server, ctx) {
    registerVolumeMethods(server, ctx, repositoryOf(ctx));
  },
  hook(ctx) {
    const volumes = repositoryOf(ctx);
    return {
      name: 'volumes',
      async startSpec(record) {
        const attached = await volumes.forSandbox(record.id);
        const mounts = [];
        for (const a of attached) {
          // Recreated if someone removed it on the host: a start must not fail for an empty volume.
          const hostPath = await ensureVolumeData(ctx.config.dataDir, a.owner_id, a.volume_id);
          mounts.push({ hostPath, path: a.path, ...(a.read_only ? { readOnly: true } : {}) });
        }
        return { volumes: mounts };
      },
    };
  },
};
