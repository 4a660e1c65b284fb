import type { ConnectedSandbox } from '../connected';
import type { RequestOptions } from '../http';
import { type KeyedPage, type ListOptions, keyedPage } from '../page';
import * as volume from '../volume';
import type { VolumeView } from './views';

/** Where and how a volume is mounted. */
export interface MountOptions extends RequestOptions {
  /** Absolute mount point in the sandbox. Servers that have no default require it. */
  path?: string;
  readOnly?: boolean;
}

/**
 * `sb.volume`: the caller's named, persistent volumes mounted into the sandbox (from its next
 * start on). Removing one from the sandbox keeps its data.
 * @example
 * await sb.volume.create('cache', { path: '/cache' });
 */
export class Volumes {
  readonly #sb: ConnectedSandbox;

  /** @internal use `sb.volume` */
  constructor(sb: ConnectedSandbox) {
    this.#sb = sb;
  }

  /** Mounts volume `name` (created empty when new). @throws ConflictError when another volume is mounted at `path`. */
  create(name: string, opts: MountOptions = {}): Promise<VolumeView> {
    const { path, ...rest } = opts;
    return volume.create(this.#sb, name, path, rest);
  }

  /** One page of the mounted volumes, newest first (also under `volumes`). */
  list(opts: ListOptions & RequestOptions = {}): Promise<KeyedPage<VolumeView, 'volumes'>> {
    return keyedPage('volumes', opts, (limit, offset, o) => volume.list(this.#sb, limit, offset, o));
  }

  get(id: string, opts?: RequestOptions): Promise<VolumeView> {
    return volume.get(this.#sb, id, opts);
  }

  /** Mounts volume `name` instead, and/or moves it or switches `readOnly` (absent fields are kept). */
  update(id: string, name: string, opts: MountOptions = {}): Promise<void> {
    const { path, readOnly, ...call } = opts;
    return volume.update(this.#sb, id, { name, path, readOnly }, call);
  }

  /** Removes the volume from the sandbox; its data is kept. */
  delete(id: string, opts?: RequestOptions): Promise<void> {
    return volume.delete(this.#sb, id, opts);
  }
}
