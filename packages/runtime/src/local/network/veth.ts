/**
 * The veth pair between the host and one sandbox's network namespace.
 *
 * The sandbox's netns is held by an open file descriptor (not re-resolved from
 * the pid for every command) so a pid that exits and gets reused can never make
 * us configure some other namespace, least of all the host's. The pair is
 * created from INSIDE the sandbox netns (`link add eth0 … peer name pe… netns
 * <our pid>`), which sends the host end home; nothing named eth0 is ever
 * created in, or configured on, the host.
 */
import { createHash } from 'node:crypto';
import { open, readFile, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { ProviderError } from '../../provider/errors';
import { CommandError, runCommand, type CommandResult } from '../command';
import type { Block } from './subnets';
import { tool } from './tools';

/** Host ends are named pe<hash>; the nft rules and leak checks match `pe*`. */
export const VETH_PREFIX = 'pe';
/** The interface name sandboxes see. */
export const SANDBOX_IFNAME = 'eth0';
const IFNAMSIZ = 15;

/** The host-side interface name for a sandbox: `pe` + 13 hex digits of sha256(id) (15 chars, the kernel limit). */
export function vethName(id: string): string {
  const digest = createHash('sha256').update(id).digest('hex');
  return VETH_PREFIX + digest.slice(0, IFNAMSIZ - VETH_PREFIX.length);
}

/** An open handle on the network namespace of a process. */
export class NetnsHandle {
  private constructor(
    private readonly file: FileHandle,
    readonly pid: number,
  ) {}

  /** Opens the netns of `pid`, refusing the namespace we run in (that would be the host's). */
  static async ofPid(pid: number): Promise<NetnsHandle> {
    if (!Number.isInteger(pid) || pid <= 1) throw new ProviderError(`invalid init pid ${pid}`);
    let file: FileHandle;
    try {
      file = await open(`/proc/${pid}/ns/net`, 'r');
    } catch (err) {
      throw new ProviderError(`cannot open the network namespace of pid ${pid}: ${(err as Error).message}`);
    }
    const [theirs, ours] = await Promise.all([file.stat(), stat('/proc/self/ns/net')]);
    if (theirs.ino === ours.ino && theirs.dev === ours.dev) {
      await file.close();
      throw new ProviderError(`pid ${pid} shares the host's network namespace; refusing to plug a sandbox interface into it`);
    }
    return new NetnsHandle(file, pid);
  }

  /** Runs `ip -batch -` inside the namespace (the fd is passed as the child's fd 3). */
  async ipBatch(lines: string[]): Promise<void> {
    const result = await this.ip(['-batch', '-'], lines.join('\n') + '\n');
    if (result.code !== 0) throw new CommandError(`ip -batch in the netns of pid ${this.pid}`, result);
  }

  /** `ip -j link show dev <name>` inside the namespace; undefined if there is no such link. */
  async link(name: string): Promise<{ ifindex: number; link_index?: number } | undefined> {
    const result = await this.ip(['-j', 'link', 'show', 'dev', name]);
    if (result.code !== 0) return undefined;
    return (JSON.parse(result.stdout) as Array<{ ifindex: number; link_index?: number }>)[0];
  }

  close(): Promise<void> {
    return this.file.close();
  }

  private ip(args: string[], input?: string): Promise<CommandResult> {
    return runCommand(tool('nsenter'), ['--net=/proc/self/fd/3', tool('ip'), ...args], {
      input,
      stdio: ['pipe', 'pipe', 'pipe', this.file.fd],
    });
  }
}

/** The ifindex of a host interface, undefined if it does not exist. */
export async function hostLinkIndex(name: string): Promise<number | undefined> {
  const text = await readFile(`/sys/class/net/${name}/ifindex`, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : Number(text.trim());
}

/**
 * Makes sure the sandbox has eth0 (paired with host `name`) configured from `block`:
 * creates the pair if needed, or re-applies the configuration to the existing one.
 * Returns whether the pair was created by this call.
 */
export async function plugVeth(ns: NetnsHandle, name: string, block: Block, mtu: number): Promise<boolean> {
  const existing = await hostLinkIndex(name);
  const reuse = existing !== undefined && (await isPairedWith(ns, name, existing));
  if (existing !== undefined && !reuse) {
    // Left over from an earlier netns of this sandbox (e.g. a previous container still dying).
    await removeHostLink(name);
  }
  const sandboxSide = [
    `addr replace ${block.sandboxIp}/${block.prefixLength} dev ${SANDBOX_IFNAME}`,
    `link set lo up`,
    `link set ${SANDBOX_IFNAME} up`,
    `route replace default via ${block.hostIp} dev ${SANDBOX_IFNAME}`,
  ];
  if (!reuse) {
    sandboxSide.unshift(
      `link add ${SANDBOX_IFNAME} mtu ${mtu} type veth peer name ${name} mtu ${mtu} netns ${process.pid}`,
    );
  }
  try {
    await ns.ipBatch(sandboxSide);
    // Sandboxes are IPv4 only: no link-local address on the host end to be reached at.
    await writeFile(`/proc/sys/net/ipv6/conf/${name}/disable_ipv6`, '1').catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err; // kernel without IPv6
    });
    const hostSide = [`addr replace ${block.hostIp}/${block.prefixLength} dev ${name}`, `link set ${name} up`];
    const result = await runCommand(tool('ip'), ['-batch', '-'], { input: hostSide.join('\n') + '\n' });
    if (result.code !== 0) throw new CommandError(`ip -batch (host end ${name})`, result);
  } catch (err) {
    if (!reuse) await removeHostLink(name).catch(() => undefined);
    throw err;
  }
  return !reuse;
}

/** Deletes a host veth end (its peer goes with it). Returns whether one existed. */
export async function removeHostLink(name: string): Promise<boolean> {
  if ((await hostLinkIndex(name)) === undefined) return false;
  const result = await runCommand(tool('ip'), ['link', 'del', 'dev', name]);
  if (result.code === 0) return true;
  // Gone meanwhile (the netns died and the kernel removed the pair): that is what we wanted.
  if ((await hostLinkIndex(name)) === undefined) return true;
  throw new CommandError(`ip link del ${name}`, result);
}

/** True if the sandbox's eth0 is the peer of host link `name`. */
async function isPairedWith(ns: NetnsHandle, name: string, hostIndex: number): Promise<boolean> {
  const inside = await ns.link(SANDBOX_IFNAME);
  if (!inside) return false;
  const hostPeer = Number((await readFile(`/sys/class/net/${name}/iflink`, 'utf8').catch(() => '')).trim());
  return inside.link_index === hostIndex && hostPeer === inside.ifindex;
}
