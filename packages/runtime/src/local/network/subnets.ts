/**
 * IPv4 arithmetic for the point-to-point /30 blocks sandboxes get: block N of a
 * network holds the host end at .1 and the sandbox end at .2 (relative to the block).
 */

/** Every sandbox address lives here; the nft rules match on it. */
export const SANDBOX_NETWORK = '10.201.0.0/16';

/** A /30 has exactly two usable addresses: one per veth end. */
export const BLOCK_PREFIX_LENGTH = 30;
const BLOCK_SIZE = 4;

export interface Block {
  index: number;
  hostIp: string;
  sandboxIp: string;
  prefixLength: number;
}

export interface Network {
  /** First address of the network as an unsigned 32-bit number. */
  base: number;
  /** How many /30 blocks fit in it. */
  blocks: number;
}

export function parseNetwork(cidr: string): Network {
  const match = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(cidr);
  const prefix = match ? Number(match[2]) : NaN;
  if (!match || !(prefix >= 8 && prefix <= BLOCK_PREFIX_LENGTH)) {
    throw new Error(`not an IPv4 network between /8 and /30: ${cidr}`);
  }
  const size = 2 ** (32 - prefix);
  const base = ipToNumber(match[1]!);
  if (base % size !== 0) throw new Error(`${cidr} has host bits set`);
  return { base, blocks: size / BLOCK_SIZE };
}

export function blockOf(network: Network, index: number): Block {
  if (!Number.isInteger(index) || index < 0 || index >= network.blocks) {
    throw new Error(`block ${index} is outside the network (0..${network.blocks - 1})`);
  }
  const first = network.base + index * BLOCK_SIZE;
  return {
    index,
    hostIp: numberToIp(first + 1),
    sandboxIp: numberToIp(first + 2),
    prefixLength: BLOCK_PREFIX_LENGTH,
  };
}

function ipToNumber(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) throw new Error(`not an IPv4 address: ${ip}`);
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

function numberToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}
