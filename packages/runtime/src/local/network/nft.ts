/**
 * The host's packet rules for sandboxes: ONE static nftables table, identical on
 * every call and free of per-sandbox rules, so no sandbox can leave a rule behind.
 * Everything keys on the interface-name prefix of the host veth ends (`pe*`) and
 * on the sandbox network.
 *
 * All chains have policy accept and only ever drop packets that came from, or
 * are headed to, a sandbox interface: the host's own traffic and other tables
 * (Docker, podman/CNI, firewalls) are left alone. Note that a drop elsewhere
 * still wins: a host whose own forward policy is drop must allow sandbox egress there.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { HostNotReadyError } from '../../provider/errors';
import { CommandError, runCommand } from '../command';
import { SANDBOX_NETWORK } from './subnets';
import { tool } from './tools';
import { VETH_PREFIX } from './veth';

export const NFT_FAMILY = 'inet';
export const NFT_TABLE = 'pocketenv';

const SANDBOX_IFACES = `"${VETH_PREFIX}*"`;

/** The table definition; `inet` so the same rules cover IPv4 and IPv6. */
export function hostRuleset(): string {
  return `table ${NFT_FAMILY} ${NFT_TABLE} {
	comment "pocketenv sandboxes: static rules, nothing per sandbox"

	chain prerouting {
		type filter hook prerouting priority raw; policy accept;
		iifname ${SANDBOX_IFACES} fib saddr . iif oif missing drop comment "anti-spoofing: a sandbox may only send from its own /30"
	}

	chain input {
		type filter hook input priority filter; policy accept;
		iifname ${SANDBOX_IFACES} ct state established,related accept comment "replies to connections the host opened (port previews)"
		iifname ${SANDBOX_IFACES} drop comment "no host service (any address, any port) is reachable from a sandbox"
	}

	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname ${SANDBOX_IFACES} oifname ${SANDBOX_IFACES} drop comment "sandboxes cannot reach each other"
		iifname ${SANDBOX_IFACES} meta nfproto ipv6 drop comment "sandboxes are IPv4 only"
		iifname ${SANDBOX_IFACES} ip daddr 127.0.0.0/8 drop comment "never the host's loopback"
		iifname ${SANDBOX_IFACES} fib daddr type local drop comment "never the host's own addresses"
		oifname ${SANDBOX_IFACES} ct state established,related accept comment "replies to sandbox egress"
		oifname ${SANDBOX_IFACES} ct status dnat accept comment "ports the host operator published with DNAT"
		oifname ${SANDBOX_IFACES} drop comment "only the host itself opens connections into a sandbox"
	}

	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr ${SANDBOX_NETWORK} oifname != ${SANDBOX_IFACES} masquerade comment "egress (apt, npm, git, DNS)"
	}
}
`;
}

/**
 * Creates or refreshes the table in one atomic transaction: declaring the table
 * first makes the delete valid when it does not exist yet, and concurrent callers
 * (several servers, test workers) each swap in the same content with no window
 * in which the rules are missing.
 */
export async function applyHostRules(): Promise<void> {
  const script = `table ${NFT_FAMILY} ${NFT_TABLE} {}\ndelete table ${NFT_FAMILY} ${NFT_TABLE}\n${hostRuleset()}`;
  await nft(['-f', '-'], script);
}

/** Removes the table (uninstall). Running sandboxes lose NAT and isolation, so stop them first. */
export async function deleteHostRules(): Promise<void> {
  const script = `table ${NFT_FAMILY} ${NFT_TABLE} {}\ndelete table ${NFT_FAMILY} ${NFT_TABLE}\n`;
  await nft(['-f', '-'], script);
}

/** Sandbox egress is routed through the host. */
export async function enableIpv4Forwarding(): Promise<void> {
  const path = '/proc/sys/net/ipv4/ip_forward';
  if ((await readFile(path, 'utf8')).trim() !== '1') await writeFile(path, '1');
}

async function nft(args: string[], input: string): Promise<void> {
  let result;
  try {
    result = await runCommand(tool('nft'), args, { input });
  } catch (err) {
    throw new HostNotReadyError(`cannot run nft: ${(err as Error).message}`);
  }
  if (result.code !== 0) throw new CommandError(`nft ${args.join(' ')}`, result);
}
