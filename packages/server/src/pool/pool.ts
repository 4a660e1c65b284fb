/**
 * The warm pool: per (provider, base), a few sandboxes already created and started
 * (filesystem, namespaces, network, cgroup, init and exec agent running) with a neutral
 * hostname and nothing of any user in them. A create takes one and only binds it: the
 * record gets the pooled sandbox's id, the sandbox gets the caller's hostname, then the
 * usual start applies the caller's attachments (env, files, repo; volumes make it reboot).
 *
 * Pooled sandboxes have NO record, so no API can see or reach them. They are deleted when
 * the server stops, and a server that died with some still there deletes them as orphans
 * during startup reconciliation (objects without a record), before the pool refills.
 *
 * Adaptive size: each (provider, base) keeps `size` ready with no demand. Each create that
 * outpaces the refill (finds it empty, or empties it while a boot is already underway)
 * raises its target by GROWTH_PER_DRAIN for DEMAND_WINDOW_MS
 * (bounded by `max`, itself bounded by memory), so a burst is served warm from its third
 * create on and the next burst meets a pool of its size. A steady trickle the pool keeps up
 * with never grows it. With the demand gone it shrinks back, one surplus sandbox at a time.
 *
 * Refill runs in the background. While the pool is at least half full it yields to requests
 * (waits until no create happened for a moment, so it does not compete with callers for the
 * CPU); below half it boots at once, alongside the creates draining it, up to PARALLEL_BOOTS
 * at a time. Once started, a boot runs to its end.
 */
import type { Provider, Resources } from '@pocketenv/runtime';
import type { SandboxRecord } from '../db/schema';
import { newId } from '../ids';
import type { Logger } from '../log';
import type { PooledSandbox, WarmPool } from '../sandboxes/orchestrator';
import type { PoolConfig } from './config';

/** What the pool needs beyond the Provider contract: renaming a running sandbox. */
export interface RenamingProvider extends Provider {
  setHostname(id: string, hostname: string): Promise<void>;
}

export function canRename(p: Provider): p is RenamingProvider {
  return typeof (p as Partial<RenamingProvider>).setHostname === 'function';
}

/** Hostname of a sandbox while it waits in the pool. */
export const POOL_HOSTNAME = 'pocketenv-pool';

/** How long refill waits after a create before it boots the next sandbox (when not urgent). */
const QUIET_MS = 150;
/** How long a drain keeps the pool grown. */
export const DEMAND_WINDOW_MS = 120_000;
/** Target increase per create that outpaced the refill. */
const GROWTH_PER_DRAIN = 2;
/** Boots at once while the pool is below half its target (2 cores: more only slows each). */
const PARALLEL_BOOTS = 2;

interface Slot {
  provider: RenamingProvider;
  base: string;
  ready: string[];
  /** Boots running for this slot. */
  booting: number;
  /** When creates outpaced the refill, newest last, within DEMAND_WINDOW_MS. */
  drains: number[];
}

export class SandboxPool implements WarmPool {
  private readonly slots: Slot[];
  private stopped = false;
  private refilling?: Promise<void>;
  private readonly boots = new Set<Promise<void>>();
  private shrinkTimer?: NodeJS.Timeout;
  private lastTakeAt = 0;
  /** Creates that took a pooled sandbox and are still binding it. */
  private binding = 0;
  private failures = 0;

  constructor(
    providers: Provider[],
    private readonly config: PoolConfig,
    private readonly resources: Resources,
    private readonly log: Logger,
  ) {
    this.slots = providers
      .filter(canRename)
      .flatMap((provider) => config.bases.map((base) => ({ provider, base, ready: [] as string[], booting: 0, drains: [] as number[] })));
  }

  take(providerName: string, base: string, resources: Resources): PooledSandbox | undefined {
    if (this.stopped) return undefined;
    const slot = this.slots.find((s) => s.provider.name === providerName && s.base === base);
    if (!slot || !sameResources(resources, this.resources)) return undefined;
    const id = slot.ready.shift();
    this.lastTakeAt = Date.now();
    // Demand outpaces the refill: the create found it empty, or emptied it while a boot was
    // already underway. (A lone create that takes the last one of an idle pool is not a burst.)
    if (!id || (slot.ready.length === 0 && slot.booting > 0)) slot.drains.push(this.lastTakeAt);
    this.kick();
    if (!id) return undefined;
    const provider = slot.provider;
    this.binding++;
    let finished = false;
    return {
      id,
      bind: (record: SandboxRecord) => provider.setHostname(id, record.name),
      done: () => {
        if (finished) return;
        finished = true;
        this.binding--;
        this.lastTakeAt = Date.now();
      },
      discard: () => {
        // Always deleted, never put back: its id may already be referenced by rows written for
        // the failed create (attachments), which must never reach another caller.
        void provider.delete(id).catch((err: unknown) => this.log.warn('pool: could not delete a discarded sandbox', { sandbox: id, err }));
      },
    };
  }

  /** Starts filling in the background. */
  start(): void {
    this.kick();
  }

  /** The slot's size now: the configured size, grown by its recent drains, at most max. */
  private targetOf(slot: Slot, now = Date.now()): number {
    while (slot.drains.length > 0 && slot.drains[0]! < now - DEMAND_WINDOW_MS) slot.drains.shift();
    return Math.min(this.config.max, this.config.size + GROWTH_PER_DRAIN * slot.drains.length);
  }

  private kick(): void {
    if (this.stopped || this.refilling || this.config.size === 0) return;
    this.refilling = this.refill().finally(() => {
      this.refilling = undefined;
      if (this.stopped) return;
      // Something was taken while this round ran: go again.
      if (this.slots.some((s) => s.ready.length + s.booting < this.targetOf(s))) this.kick();
      // Grown for a burst: look again once its demand has left the window, to shrink back.
      else if (this.slots.some((s) => s.ready.length > this.config.size) && !this.shrinkTimer) {
        this.shrinkTimer = setTimeout(() => {
          this.shrinkTimer = undefined;
          this.kick();
        }, DEMAND_WINDOW_MS);
        this.shrinkTimer.unref();
      }
    });
  }

  private async refill(): Promise<void> {
    for (;;) {
      if (this.stopped) break;
      const now = Date.now();
      const slot = this.slots.find((s) => s.ready.length + s.booting < this.targetOf(s, now));
      if (!slot) {
        // Demand has gone: give back one surplus sandbox per pass (none while one is booting).
        const over = this.slots.find((s) => s.booting === 0 && s.ready.length > this.targetOf(s, now));
        if (!over) break;
        const id = over.ready.pop()!;
        await over.provider.delete(id).catch((err: unknown) => this.log.warn('pool: could not delete a surplus sandbox', { sandbox: id, err }));
        continue;
      }
      // Urgent (below half its target): boot now, alongside the creates. Otherwise requests
      // first: wait until no create happened for a moment.
      const urgent = () => slot.ready.length < this.targetOf(slot) / 2;
      while (!this.stopped && !urgent() && (this.binding > 0 || Date.now() - this.lastTakeAt < QUIET_MS)) await sleep(QUIET_MS / 3);
      if (this.stopped) break;
      if (this.boots.size >= PARALLEL_BOOTS || (!urgent() && this.boots.size > 0)) {
        await Promise.race(this.boots);
        continue;
      }
      const boot = this.boot(slot).finally(() => this.boots.delete(boot));
      this.boots.add(boot);
    }
    await Promise.all(this.boots);
  }

  private async boot(slot: Slot): Promise<void> {
    const id = newId('sbx');
    slot.booting++;
    try {
      await slot.provider.prepareBase(slot.base);
      await slot.provider.create({ id, hostname: POOL_HOSTNAME, base: slot.base, resources: this.resources });
      await slot.provider.start(id);
      if (this.stopped) {
        await slot.provider.delete(id).catch(() => undefined);
        return;
      }
      slot.ready.push(id);
      this.failures = 0;
      this.log.info('pool.ready', { sandbox: id, base: slot.base, idle: slot.ready.length, target: this.targetOf(slot) });
    } catch (err) {
      await slot.provider.delete(id).catch(() => undefined);
      this.failures++;
      this.log.warn('pool: could not prepare a sandbox', { base: slot.base, err });
      // A broken base must not spin the CPU: back off, up to a minute.
      await sleep(Math.min(60_000, 500 * 2 ** Math.min(this.failures, 7)));
    } finally {
      slot.booting--;
    }
  }

  /** Stops refilling and deletes every sandbox still waiting. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.shrinkTimer) clearTimeout(this.shrinkTimer);
    await this.refilling?.catch(() => undefined);
    for (const slot of this.slots) {
      for (const id of slot.ready.splice(0)) {
        await slot.provider.delete(id).catch((err: unknown) => this.log.warn('pool: could not delete a pooled sandbox', { sandbox: id, err }));
      }
    }
  }
}

function sameResources(a: Resources, b: Resources): boolean {
  return a.vcpus === b.vcpus && a.memoryGiB === b.memoryGiB && a.diskGiB === b.diskGiB && a.pids === b.pids;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
