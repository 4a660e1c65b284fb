/**
 * The docker provider's network: one user-defined bridge of ours (`pocketenv`, host interface
 * `pocketenv-br0`) with inter-container traffic disabled, plus — when the engine runs on this
 * host — one static nft table `inet pocketenv_docker` that keeps its containers away from the
 * host (every address, loopback-published ports, the Pocketenv server), from ports published
 * with DNAT, from the local provider's sandboxes, and from each other. Egress to the outside
 * (apt, npm, git) goes through Docker's own masquerade. The host can still open connections to a
 * container (the preview proxy dials the container's address on this bridge).
 *
 * Like the local provider's table, every chain has policy accept and only drops traffic of our
 * bridge, so the host's own traffic, Docker's tables and the local provider's `inet pocketenv`
 * are left alone; and DOCKER-USER lets the local provider's sandboxes through Docker's FORWARD
 * drop (see shared/docker-forward.ts).
 */
import type Dockerode from 'dockerode';
import { HostNotReadyError, ProviderError } from '../provider/errors';
import { runCommand } from '../shared/command';
import { allowThroughDockerForward } from '../shared/docker-forward';
import { tool } from '../local/network/tools';
import { VETH_PREFIX } from '../local/network/veth';
import { LABEL_MANAGED } from './labels';

export const NETWORK_NAME = 'pocketenv';
/** The bridge's host interface. Not `pe…`: that prefix is the local provider's veths. */
export const BRIDGE_IFACE = 'pocketenv-br0';
export const NFT_TABLE = 'pocketenv_docker';

export function hostRuleset(): string {
  const br = `"${BRIDGE_IFACE}"`;
  const local = `"${VETH_PREFIX}*"`;
  return `table inet ${NFT_TABLE} {
	comment "pocketenv docker sandboxes: static rules, nothing per sandbox"

	chain input {
		type filter hook input priority filter; policy accept;
		iifname ${br} ct state established,related accept comment "replies to connections the host opened (preview proxy)"
		iifname ${br} drop comment "no host service (any address, any port, the pocketenv server) is reachable from a container"
	}

	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname ${br} ct status dnat drop comment "not even through ports published on the host"
		iifname ${br} ip daddr 127.0.0.0/8 drop comment "never the host's loopback"
		iifname ${br} fib daddr type local drop comment "never the host's own addresses"
		iifname ${br} meta nfproto ipv6 drop comment "containers are IPv4 only"
		iifname ${br} oifname ${local} drop comment "never a sandbox of the local provider"
		oifname ${br} ct state established,related accept comment "replies to container egress"
		oifname ${br} drop comment "containers cannot reach each other; nothing but the host opens connections into one"
	}
}
`;
}

/** Installs (atomically replaces) the table and the DOCKER-USER exception. Idempotent. */
export async function applyHostRules(): Promise<void> {
  const script = `table inet ${NFT_TABLE} {}\ndelete table inet ${NFT_TABLE}\n${hostRuleset()}`;
  let result;
  try {
    result = await runCommand(tool('nft'), ['-f', '-'], { input: script });
  } catch (err) {
    throw new HostNotReadyError(`cannot run nft: ${(err as Error).message}`);
  }
  if (result.code !== 0) throw new HostNotReadyError(`installing the docker provider's nft rules failed: ${result.stderr.trim()}`);
  await allowThroughDockerForward(`${VETH_PREFIX}+`);
}

/** Creates our network when missing (a concurrent creator's 409 is fine) and checks it is the isolated bridge. */
export async function ensureNetwork(docker: Dockerode): Promise<void> {
  const inspect = () => docker.getNetwork(NETWORK_NAME).inspect() as Promise<{ Driver: string; Options?: Record<string, string>; Labels?: Record<string, string> }>;
  let network = await inspect().catch((err: { statusCode?: number }) => {
    if (err.statusCode === 404) return undefined;
    throw err;
  });
  if (!network) {
    await docker
      .createNetwork({
        Name: NETWORK_NAME,
        Driver: 'bridge',
        CheckDuplicate: true,
        EnableIPv6: false,
        Internal: false,
        Options: {
          'com.docker.network.bridge.name': BRIDGE_IFACE,
          'com.docker.network.bridge.enable_icc': 'false',
          'com.docker.network.bridge.enable_ip_masquerade': 'true',
        },
        Labels: { [LABEL_MANAGED]: 'true' },
      })
      .catch((err: { statusCode?: number }) => {
        if (err.statusCode !== 409) throw err;
      });
    network = await inspect();
  }
  if (network.Labels?.[LABEL_MANAGED] !== 'true' || network.Options?.['com.docker.network.bridge.enable_icc'] !== 'false') {
    throw new ProviderError(
      `the Docker network ${JSON.stringify(NETWORK_NAME)} exists but was not made by pocketenv (or allows traffic between containers); remove it (docker network rm ${NETWORK_NAME}) and retry`,
    );
  }
}
