/**
 * Coexistence with Docker's iptables rules on one host.
 *
 * dockerd sets the policy of iptables' FORWARD chain (table `ip filter`) to DROP. In nftables a
 * packet must pass EVERY base chain of a hook, so that drop also eats the forwarded traffic of
 * the local provider's sandboxes (their egress through the host), however our own `inet
 * pocketenv` table judges it. Docker's documented place for exceptions is the DOCKER-USER
 * chain, which dockerd jumps to first and never flushes (it creates it only when missing).
 *
 * So: accept traffic from and to one interface pattern there. This only lifts Docker's blanket
 * drop; it accepts nothing our own nft tables drop (their drops still apply), so isolation
 * stays what those tables say. The chain is created even before Docker runs, so an engine
 * started later finds the exception in place. Uses the `iptables` command (iptables-nft), as
 * Docker does: hand-written nft rules in iptables' tables would confuse iptables.
 */
import { existsSync } from 'node:fs';
import { runCommand } from './command';

const IPTABLES = ['/usr/sbin/iptables', '/sbin/iptables'].find((p) => existsSync(p));
export const DOCKER_USER_CHAIN = 'DOCKER-USER';

/** Lets traffic of interfaces matching `ifacePattern` (iptables syntax, e.g. `pe+`) through Docker's FORWARD policy. No-op without iptables. */
export async function allowThroughDockerForward(ifacePattern: string): Promise<void> {
  if (!IPTABLES) return; // no iptables, no Docker iptables rules to coexist with
  const iptables = (args: string[]) => runCommand(IPTABLES, ['-w', '5', ...args]);
  // "Chain already exists" is the normal case.
  await iptables(['-t', 'filter', '-N', DOCKER_USER_CHAIN]);
  for (const rule of [
    ['-i', ifacePattern, '-j', 'ACCEPT'],
    ['-o', ifacePattern, '-j', 'ACCEPT'],
  ]) {
    if ((await iptables(['-t', 'filter', '-C', DOCKER_USER_CHAIN, ...rule])).code === 0) continue;
    const added = await iptables(['-t', 'filter', '-I', DOCKER_USER_CHAIN, '1', ...rule]);
    if (added.code !== 0) throw new Error(`iptables -I ${DOCKER_USER_CHAIN} ${rule.join(' ')} failed: ${added.stderr.trim()}`);
  }
}
