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
 * Refill runs in the background, one sandbox at a time, and yields to requests: it waits
 * while a create that took a pooled sandbox is being served (and a moment after), so it does
 * not compete with that caller for the CPU. Once started, one refill boot runs to its end.
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

/** How long refill waits after a create before it boots the next sandbox. */
const QUIET_MS = 150;

interface Slot {
  provider: RenamingProvider;
  base: string;
  ready: string[];
}

export class SandboxPool implements WarmPool {
  private readonly slots: Slot[];
  private stopped = false;
  private refilling?: Promise<void>;
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
      .flatMap((provider) => config.bases.map((base) => ({ provider, base, ready: [] as string[] })));
  }

  take(providerName: string, base: string, resources: Resources): PooledSandbox | undefined {
    if (this.stopped) return undefined;
    const slot = this.slots.find((s) => s.provider.name === providerName && s.base === base);
    if (!slot || !sameResources(resources, this.resources)) return undefined;
    const id = slot.ready.shift();
    this.lastTakeAt = Date.now();
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

  private kick(): void {
    if (this.stopped || this.refilling || this.config.size === 0) return;
    this.refilling = this.refill().finally(() => {
      this.refilling = undefined;
      // Something was taken while this round ran: go again.
      if (!this.stopped && this.slots.some((s) => s.ready.length < this.config.size)) this.kick();
    });
  }

  private async refill(): Promise<void> {
    for (;;) {
      const slot = this.slots.find((s) => s.ready.length < this.config.size);
      if (!slot || this.stopped) return;
      // Requests first: wait until no create happened for a moment.
      while (!this.stopped && (this.binding > 0 || Date.now() - this.lastTakeAt < QUIET_MS)) await sleep(QUIET_MS / 3);
      if (this.stopped) return;
      const id = newId('sbx');
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
        this.log.info('pool.ready', { sandbox: id, base: slot.base, idle: slot.ready.length });
      } catch (err) {
        await slot.provider.delete(id).catch(() => undefined);
        this.failures++;
        this.log.warn('pool: could not prepare a sandbox', { base: slot.base, err });
        // A broken base must not spin the CPU: back off, up to a minute.
        await sleep(Math.min(60_000, 500 * 2 ** Math.min(this.failures, 7)));
      }
    }
  }

  /** Stops refilling and deletes every sandbox still waiting. */
  async stop(): Promise<void> {
    this.stopped = true;
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
