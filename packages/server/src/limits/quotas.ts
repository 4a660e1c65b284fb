/**
 * Sandbox quotas per actor: how many sandboxes, and how many running (or starting). The check
 * and the write that makes it true (the insert, or the move to INITIALIZING) run under one
 * per-actor lock, so concurrent requests cannot all slip under the limit together.
 * Also how many commands one actor may have running at once, so that one actor's flood of
 * long commands cannot take every exec slot of the machine from the others.
 */
import type { Actor, SandboxRecord } from '../db/schema';
import type { SandboxRepository } from '../sandboxes/repository';
import { KeyedMutex } from '../sandboxes/keyed-mutex';
import { KeyedSlots } from './keyed-slots';
import { RateLimitError } from '../errors';
import type { LimitsConfig } from './config';
import { setRetryAfter } from './retry-after';

/** How long a client is told to wait: quotas free up when the caller stops or deletes a sandbox. */
const QUOTA_RETRY_AFTER_S = 30;
/** Exec slots free up as soon as one of the caller's commands ends. */
const EXEC_RETRY_AFTER_S = 1;

export class SandboxQuotas {
  private readonly locks = new KeyedMutex();
  private readonly execSlots: KeyedSlots;

  constructor(
    private readonly sandboxes: SandboxRepository,
    private readonly limits: LimitsConfig,
  ) {
    this.execSlots = new KeyedSlots(limits.maxConcurrentExec);
  }

  /** Runs `insert` if the owner is below both quotas (a new sandbox is created running). */
  create<T>(owner: Actor, insert: () => Promise<T>): Promise<T> {
    return this.locks.run(owner.id, async () => {
      const { maxSandboxes, maxRunning } = this.limits;
      if (maxSandboxes > 0 && (await this.count(owner.id)) >= maxSandboxes) {
        throw this.refuse(`you have ${maxSandboxes} sandboxes, the most this server allows (POCKETENV_MAX_SANDBOXES); delete one first`);
      }
      if (maxRunning > 0 && (await this.running(owner.id)) >= maxRunning) {
        throw this.refuse(`you have ${maxRunning} running sandboxes, the most this server allows (POCKETENV_MAX_RUNNING); stop one first`);
      }
      return insert();
    });
  }

  /** Runs `markStarting` if starting `record` keeps its owner within the running quota. */
  start<T>(record: SandboxRecord, markStarting: () => Promise<T>): Promise<T> {
    const owner = record.owner_id;
    if (!owner || this.limits.maxRunning <= 0) return markStarting();
    return this.locks.run(owner, async () => {
      const others = await this.running(owner, record.id);
      if (others >= this.limits.maxRunning) {
        throw this.refuse(`you have ${this.limits.maxRunning} running sandboxes, the most this server allows (POCKETENV_MAX_RUNNING); stop one first`);
      }
      return markStarting();
    });
  }

  /** Takes one of the owner's exec slots; the caller gives it back with the returned function. */
  exec(record: SandboxRecord): () => void {
    const owner = record.owner_id;
    const max = this.limits.maxConcurrentExec;
    if (!owner || max <= 0) return () => undefined;
    const release = this.execSlots.take(owner);
    if (!release) {
      throw this.refuse(`you have ${max} commands running, the most this server allows (POCKETENV_MAX_CONCURRENT_EXEC); wait for one to end`, EXEC_RETRY_AFTER_S);
    }
    return release;
  }

  private refuse(message: string, retryAfterS = QUOTA_RETRY_AFTER_S): RateLimitError {
    setRetryAfter(retryAfterS);
    return new RateLimitError(message, retryAfterS);
  }

  private async count(ownerId: string): Promise<number> {
    return (await this.sandboxes.listOwned(ownerId, { limit: 1, offset: 0 })).total;
  }

  private async running(ownerId: string, except?: string): Promise<number> {
    let n = 0;
    for (const status of ['RUNNING', 'INITIALIZING'] as const) {
      const { records, total } = await this.sandboxes.listOwned(ownerId, { limit: 100, offset: 0, status });
      n += total - (except && records.some((r) => r.id === except) ? 1 : 0);
    }
    return n;
  }
}
