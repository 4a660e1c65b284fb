/**
 * The core module, as the seed SDK's `pocketenv`: clients and the caller's profile.
 * @module
 */
import type { Client } from './client';
import { decodeProfile, decodeServerDescription } from './decode';
import { type CallOptions, query } from './http';
import type { Profile, ServerDescription } from './types';

export { DEFAULT_BASE_URL, HOSTED_BASE_URL, newClient, tokenFilePath } from './client';
export type { Client, ClientOptions } from './client';

/**
 * The profile of an actor: the caller's when `did` is left out.
 * @example
 * const me = await pocketenv.getProfile(client);
 * console.log(`${me.handle} (${me.did})`);
 */
export async function getProfile(client: Client, did?: string, opts?: CallOptions): Promise<Profile> {
  return decodeProfile(await query(client, 'io.pocketenv.actor.getProfile', { did }, opts));
}

/**
 * Describes the server: version, providers (and whether each can run here), bases and the
 * sealing key. Needs no token.
 * @example
 * const info = await pocketenv.describeServer(client);
 * console.log(info.providers.filter((p) => p.available).map((p) => p.name));
 */
export async function describeServer(client: Client, opts?: CallOptions): Promise<ServerDescription> {
  return decodeServerDescription(await query(client, 'io.pocketenv.server.describeServer', {}, opts));
}
