/**
 * Exposing ports of a sandbox, as the seed SDK's `pocketenv/network`. An exposed port stays
 * exposed across stop/start; its preview URL stops working for good when it is unexposed.
 * (Tailscale keys are in the `tailscale` module.)
 *
 * @example
 * import { network } from '@pocketenv/sdk';
 * const url = await network.expose(sb, 3000, 'dev server');
 * console.log(await (await fetch(url)).text());
 * await network.unexpose(sb, 3000);
 * @module
 */
import type { ConnectedSandbox } from './connected';
import { decodePreviewUrl } from './decode';
import { type CallOptions, procedure } from './http';

/**
 * Exposes `port` (1025..65535) and returns its preview URL.
 * @throws ConflictError when it is already exposed.
 * @example
 * const url = await network.expose(sb, 8080);
 */
export async function expose(sb: ConnectedSandbox, port: number, description?: string, opts?: CallOptions): Promise<string> {
  const body = await procedure(sb.client, 'io.pocketenv.sandbox.exposePort', { id: sb.id }, description === undefined ? { port } : { port, description }, opts);
  return decodePreviewUrl(body, 'exposePort');
}

/**
 * Stops exposing `port`; its preview URL stops working. Unexposing a port that is not exposed is fine.
 * @example
 * await network.unexpose(sb, 8080);
 */
export async function unexpose(sb: ConnectedSandbox, port: number, opts?: CallOptions): Promise<void> {
  await procedure(sb.client, 'io.pocketenv.sandbox.unexposePort', { id: sb.id }, { port }, opts);
}
