/**
 * Sandbox networking for the local provider: each sandbox's own network
 * namespace (created by the OCI runtime) gets a veth pair to the host with a /30
 * from 10.201.0.0/16, a default route through the host, and NAT out. One static
 * nft table (./nft.ts) keeps sandboxes away from the host's services and from
 * each other; the host can still open connections to a sandbox (port previews).
 *
 * Nothing here is per-process state: allocations are files under a host-wide
 * tmpfs dir (./allocation.ts) and the interfaces are the kernel's, so a new
 * driver can detach what a crashed one attached.
 */
import { AddressPool } from './allocation';
import { applyHostRules, deleteHostRules, enableIpv4Forwarding } from './nft';
import { SANDBOX_NETWORK, type Block } from './subnets';
import { uplinkMtu } from './uplink';
import { NetnsHandle, plugVeth, removeHostLink, VETH_PREFIX, vethName } from './veth';
import { allowThroughDockerForward } from '../../shared/docker-forward';

export { vethName };

export interface SandboxAddress {
  /** Host end of the veth pair (the sandbox side is always eth0). */
  ifname: string;
  hostIp: string;
  sandboxIp: string;
  prefixLength: number;
}

const DEFAULT_ALLOC_DIR = '/run/pocketenv/net';

export class SandboxNetworks {
  private readonly pool: AddressPool;
  /** Operations on one id run one after another (attach racing detach would leak). */
  private readonly queues = new Map<string, Promise<unknown>>();
  private hostRules?: Promise<void>;
  private mtu?: Promise<number>;

  constructor(opts: { allocDir?: string } = {}) {
    this.pool = new AddressPool({ dir: opts.allocDir ?? DEFAULT_ALLOC_DIR, network: SANDBOX_NETWORK });
  }

  /** Enables IPv4 forwarding and (re)installs the static nft table. Idempotent; call once at provider start. */
  async ensureHostRules(): Promise<void> {
    const ready = (async () => {
      await enableIpv4Forwarding();
      await applyHostRules();
      // Docker on the same host sets iptables' FORWARD policy to drop, which would eat sandbox egress.
      await allowThroughDockerForward(`${VETH_PREFIX}+`);
    })();
    this.hostRules = ready;
    // A failed attempt is not remembered: the next attach tries again.
    ready.catch(() => {
      if (this.hostRules === ready) this.hostRules = undefined;
    });
    return ready;
  }

  /** Deletes the nft table (uninstall). Running sandboxes lose egress and isolation: stop them first. */
  async removeHostRules(): Promise<void> {
    this.hostRules = undefined;
    await deleteHostRules();
  }

  /**
   * Plugs the sandbox whose init is `initPid` into the host: veth (host end
   * `vethName(id)`, sandbox end eth0), addresses, lo up, default route. Call it
   * between the runtime's create and start. Idempotent per id: the same id keeps
   * its address, and a healthy pair is only re-configured.
   */
  attach(id: string, initPid: number): Promise<SandboxAddress> {
    return this.serialized(id, async () => {
      // A sandbox must never be connected without the isolation rules in place.
      await (this.hostRules ?? this.ensureHostRules());
      const ns = await NetnsHandle.ofPid(initPid);
      let fresh = false;
      try {
        const allocation = await this.pool.allocate(id);
        fresh = allocation.fresh;
        this.mtu ??= uplinkMtu();
        await plugVeth(ns, vethName(id), allocation.block, await this.mtu);
        return toAddress(id, allocation.block);
      } catch (err) {
        if (fresh) await this.pool.release(id).catch(() => undefined);
        throw err;
      } finally {
        await ns.close();
      }
    });
  }

  /** Removes the host veth (and with it the sandbox's eth0) if present and frees the address. Idempotent. */
  detach(id: string): Promise<void> {
    return this.serialized(id, async () => {
      await removeHostLink(vethName(id));
      await this.pool.release(id);
    });
  }

  async addressOf(id: string): Promise<SandboxAddress | undefined> {
    const block = await this.pool.lookup(id);
    return block && toAddress(id, block);
  }

  /** Ids holding an address on this host (from any process using the same allocation dir). */
  listAllocations(): Promise<string[]> {
    return this.pool.owners();
  }

  private serialized<T>(id: string, op: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(id) ?? Promise.resolve();
    const next = previous.then(op, op);
    const settled = next.catch(() => undefined);
    this.queues.set(id, settled);
    void settled.then(() => {
      if (this.queues.get(id) === settled) this.queues.delete(id);
    });
    return next;
  }
}

function toAddress(id: string, block: Block): SandboxAddress {
  return { ifname: vethName(id), hostIp: block.hostIp, sandboxIp: block.sandboxIp, prefixLength: block.prefixLength };
}
