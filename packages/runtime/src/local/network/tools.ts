/** Absolute paths of the host tools networking shells out to (root's PATH may lack /usr/sbin). */
import { existsSync } from 'node:fs';
import { HostNotReadyError } from '../../provider/errors';

const SEARCH_DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin'];
const PACKAGE_OF = { ip: 'iproute2', nsenter: 'util-linux', nft: 'nftables' } as const;
export type NetworkTool = keyof typeof PACKAGE_OF;

const found = new Map<NetworkTool, string>();

export function tool(name: NetworkTool): string {
  const cached = found.get(name);
  if (cached) return cached;
  const path = SEARCH_DIRS.map((dir) => `${dir}/${name}`).find((p) => existsSync(p));
  if (!path) throw new HostNotReadyError(`${name} is not installed (Debian package ${PACKAGE_OF[name]}); run pocketenv setup`);
  found.set(name, path);
  return path;
}
