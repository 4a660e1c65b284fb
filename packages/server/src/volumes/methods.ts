/**
 * io.pocketenv.volume.*: attach (addVolume), list, read, change and detach (deleteVolume)
 * volumes of the caller's sandboxes, and our getVolumeData / deleteVolumeData for the named
 * data itself. Mounts change at the sandbox's next start (see index.ts).
 */
import type { Server } from '@atproto/xrpc-server';
import type { VolumeDefs } from '@pocketenv/lexicons';
import type { AppContext } from '../context';
import { InvalidInputError, NotFoundError } from '../errors';
import { authedMethod } from '../xrpc/method';
import { ownedSandbox } from '../xrpc/lookup';
import { page } from '../xrpc/pagination';
import type { Attachment, VolumeRepository } from './repository';
import { checkMountPath, checkVolumeName, ensureVolumeData, removeVolumeData, volumeSize } from './storage';

const VOLUMES_PAGE = 20;

function toVolumeView(a: Attachment): VolumeDefs.VolumeView {
  return {
    id: a.id,
    sandboxId: a.sandbox_id,
    name: a.name,
    path: a.path,
    readOnly: a.read_only === 1,
    createdAt: a.created_at,
    updatedAt: a.updated_at,
  };
}

export function registerVolumeMethods(server: Server, ctx: AppContext, volumes: VolumeRepository): void {
  authedMethod(server, ctx, 'io.pocketenv.volume.addVolume', async ({ actor, input }) => {
    const sandbox = await ownedSandbox(ctx, actor, input.volume.sandboxId);
    const name = checkVolumeName(input.volume.name, 'volume.name');
    const path = checkMountPath(input.volume.path, 'volume.path');
    const provider = ctx.orchestrator.providerOf(sandbox);
    if (!provider.capabilities.has('volumes')) {
      throw new InvalidInputError('volume', `provider ${provider.name} (sandbox ${sandbox.name}) does not support volumes`);
    }
    if (sandbox.isolation === 'gvisor') {
      // runsc 20221219 has no idmapped bind mounts (see the runtime's gvisor/ and the README's capability table).
      throw new InvalidInputError('volume', `sandbox ${sandbox.name} is isolated with gVisor, which cannot mount volumes on this server (runsc rejects idmapped bind mounts); use a standard sandbox for volumes`);
    }
    const attachment = await volumes.withNamedVolume(actor.id, name, (volume) => volumes.attach(sandbox.id, volume, path, input.volume.readOnly === true));
    await ensureVolumeData(ctx.config.dataDir, actor.id, attachment.volume_id);
    ctx.log.info('volume.attached', { sandbox: sandbox.id, volume: attachment.volume_id, attachment: attachment.id, appliesAt: sandbox.status === 'RUNNING' ? 'next start' : 'start' });
    return { volume: toVolumeView(attachment) };
  });

  authedMethod(server, ctx, 'io.pocketenv.volume.getVolumes', async ({ actor, params }) => {
    const sandboxId = params.sandboxId ? (await ownedSandbox(ctx, actor, params.sandboxId)).id : undefined;
    const { rows, total } = await volumes.listOwned(actor.id, sandboxId, page(params, VOLUMES_PAGE));
    return { volumes: rows.map(toVolumeView), total };
  });

  authedMethod(server, ctx, 'io.pocketenv.volume.getVolume', async ({ actor, params }) => {
    return { volume: toVolumeView(await volumes.findOwned(actor.id, params.id)) };
  });

  authedMethod(server, ctx, 'io.pocketenv.volume.updateVolume', async ({ actor, input }) => {
    const attachment = await volumes.findOwned(actor.id, input.id);
    const patch = input.volume;
    const path = patch.path !== undefined ? checkMountPath(patch.path, 'volume.path') : undefined;
    const readOnly = patch.readOnly;
    if (patch.name === undefined || patch.name === attachment.name) {
      await volumes.update(attachment, { path, readOnly });
      return {};
    }
    // A new name points the attachment at that volume (created when new); the old data stays.
    const name = checkVolumeName(patch.name, 'volume.name');
    const volume = await volumes.withNamedVolume(actor.id, name, async (v) => {
      await volumes.update(attachment, { volume: v, path, readOnly });
      return v;
    });
    await ensureVolumeData(ctx.config.dataDir, actor.id, volume.id);
    return {};
  });

  authedMethod(server, ctx, 'io.pocketenv.volume.deleteVolume', async ({ actor, params }) => {
    const attachment = await volumes.findOwned(actor.id, params.id);
    await volumes.detach(attachment.id);
    ctx.log.info('volume.detached', { sandbox: attachment.sandbox_id, attachment: attachment.id });
    return {};
  });

  authedMethod(server, ctx, 'io.pocketenv.volume.getVolumeData', async ({ actor, params }) => {
    const { rows, total } = await volumes.listVolumes(actor.id, page(params, VOLUMES_PAGE));
    const out = await Promise.all(
      rows.map(async (v) => {
        const sizeBytes = await volumeSize(ctx.config.dataDir, actor.id, v.id);
        return { name: v.name, sandboxIds: v.sandboxIds, ...(sizeBytes !== undefined ? { sizeBytes } : {}), createdAt: v.created_at };
      }),
    );
    return { volumes: out, total };
  });

  authedMethod(server, ctx, 'io.pocketenv.volume.deleteVolumeData', async ({ actor, params }) => {
    const volume = await volumes.findByName(actor.id, params.name);
    if (!volume) throw new NotFoundError(`no volume named ${JSON.stringify(params.name)}`);
    await volumes.deleteVolume(volume); // 409 while attached
    await removeVolumeData(ctx.config.dataDir, actor.id, volume.id);
    ctx.log.info('volume.data_deleted', { volume: volume.id });
    return {};
  });
}
