/**
 * Volumes, as the seed SDK's `pocketenv/volume`: named, persistent directories mounted into a
 * sandbox at a path. A volume belongs to the caller and is known by its name: `create` with a
 * name already used mounts the same data. Mounts change at the sandbox's next start. Removing a
 * volume from a sandbox (`delete`) keeps its data; `deleteData` removes the data for good.
 *
 * @example
 * import { volume } from '@pocketenv/sdk';
 * await volume.create(sb, 'cache', '/cache');
 * await sb.stop(); await sb.start(); // mounted from this start on
 * const { volumes } = await volume.list(sb);
 * @module
 */
import type { VolumeDefs, VolumeGetVolumeData } from '@pocketenv/lexicons';
import { type Reach, clientOf, decodeList, decodeWrapped, dropUndefined } from './attachment-wire';
import type { ConnectedSandbox } from './connected';
import { type CallOptions, procedure, query } from './http';

/** A volume mounted into a sandbox (`id` is this mount's; `name` is the data's). */
export type Volume = VolumeDefs.VolumeView;

export interface VolumePage {
  volumes: Volume[];
  total: number;
}

/** A named volume's data, attached or not (`sandboxIds` empty when detached everywhere). */
export type VolumeData = VolumeGetVolumeData.VolumeData;

export interface VolumeDataPage {
  volumes: VolumeData[];
  total: number;
}

const NS = 'io.pocketenv.volume';
const FIELDS = ['id', 'name', 'path', 'createdAt'] as const;

/**
 * Mounts the caller's volume `name` (created empty when new) at `path` in the sandbox, from
 * its next start on. `path` `undefined` leaves the choice to the server (servers that require
 * a path answer 400).
 * @throws InvalidRequestError for a relative path, `/`, a path under /proc, /sys or /dev, or a bad name; ConflictError when another volume of the sandbox is mounted at `path`.
 * @example
 * const v = await volume.create(sb, 'datasets', '/data', { readOnly: true });
 */
export async function create(sb: ConnectedSandbox, name: string, path: string | undefined, opts: { readOnly?: boolean } & CallOptions = {}): Promise<Volume> {
  const { readOnly, ...call } = opts;
  const body = await procedure(sb.client, `${NS}.addVolume`, {}, { volume: dropUndefined({ sandboxId: sb.id, name, path, readOnly }) }, call);
  return decodeWrapped<Volume>(body, 'addVolume', 'volume', FIELDS);
}

/**
 * One page of the sandbox's volumes, newest first.
 * @param limit at least 1; above 100 is served as 100. @default 20 (the server's)
 * @example
 * const { volumes, total } = await volume.list(sb);
 */
export async function list(sb: ConnectedSandbox, limit?: number, offset?: number, opts?: CallOptions): Promise<VolumePage> {
  const body = await query(sb.client, `${NS}.getVolumes`, { sandboxId: sb.id, limit, offset }, opts);
  const { items, total } = decodeList<Volume>(body, 'getVolumes', 'volumes', FIELDS);
  return { volumes: items, total };
}

/**
 * One volume mount by id. @throws NotFoundError when it is not one of the caller's.
 * @example
 * const v = await volume.get(sb, 'vol_…');
 */
export async function get(target: Reach, id: string, opts?: CallOptions): Promise<Volume> {
  return decodeWrapped<Volume>(await query(clientOf(target), `${NS}.getVolume`, { id }, opts), 'getVolume', 'volume', FIELDS);
}

/**
 * Changes a mount (absent fields are kept): another `name` mounts that volume instead (the old
 * data stays), `path` moves it, `readOnly` switches. Applies at the sandbox's next start.
 * @example
 * await volume.update(sb, v.id, { readOnly: true });
 */
export async function update(target: Reach, id: string, change: { name?: string; path?: string; readOnly?: boolean }, opts?: CallOptions): Promise<void> {
  await procedure(clientOf(target), `${NS}.updateVolume`, {}, { id, volume: dropUndefined(change) }, opts);
}

/**
 * Removes the volume from its sandbox (from the next start on); the data is kept. Exported as `delete`.
 * @example
 * await volume.delete(sb, v.id);
 */
async function del(target: Reach, id: string, opts?: CallOptions): Promise<void> {
  await procedure(clientOf(target), `${NS}.deleteVolume`, { id }, {}, opts);
}
export { del as delete };

/**
 * The caller's named volumes (the data), newest first, with the sandboxes each is mounted in.
 * @example
 * const { volumes } = await volume.listData(client);
 */
export async function listData(target: Reach, limit?: number, offset?: number, opts?: CallOptions): Promise<VolumeDataPage> {
  const body = await query(clientOf(target), `${NS}.getVolumeData`, { limit, offset }, opts);
  const { items, total } = decodeList<VolumeData>(body, 'getVolumeData', 'volumes', ['name', 'createdAt']);
  return { volumes: items, total };
}

/**
 * Deletes a named volume's data for good.
 * @throws ConflictError while it is mounted in a sandbox (remove it there with `delete` first), NotFoundError for an unknown name.
 * @example
 * await volume.deleteData(client, 'cache');
 */
export async function deleteData(target: Reach, name: string, opts?: CallOptions): Promise<void> {
  await procedure(clientOf(target), `${NS}.deleteVolumeData`, { name }, {}, opts);
}
