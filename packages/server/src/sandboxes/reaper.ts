/**
 * The idle policy. A keepAlive:false sandbox with no activity (start, exec, terminal, preview…)
 * for `idleTimeoutMs` is paused (default: memory and processes kept, no CPU, any use resumes it
 * in milliseconds) or stopped (`idleAction`). A sandbox paused for `stopAfterPausedMs` is then
 * stopped, which frees its memory. keepAlive:true sandboxes are never touched. Runs on a timer;
 * each pass is skipped if the previous one is still going.
 */
import type { IdleAction } from '../config';
import type { Logger } from '../log';
import type { Orchestrator } from './orchestrator';
import type { SandboxRepository } from './repository';
import type { SandboxRecord } from '../db/schema';

export interface IdlePolicy {
  idleTimeoutMs: number;
  idleAction: IdleAction;
  /** 0: a paused sandbox is never stopped for it. */
  stopAfterPausedMs: number;
  intervalMs: number;
}

export class IdleReaper {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;

  constructor(
    private readonly sandboxes: SandboxRepository,
    private readonly orchestrator: Orchestrator,
    private readonly log: Logger,
    private readonly policy: IdlePolicy,
  ) {}

  private get idleActs(): boolean {
    return this.policy.idleTimeoutMs > 0 && this.policy.idleAction !== 'off';
  }

  start(): void {
    if ((!this.idleActs && this.policy.stopAfterPausedMs <= 0) || this.timer) return;
    this.timer = setInterval(() => {
      if (!this.pass) this.pass = this.reapOnce().finally(() => (this.pass = undefined));
    }, this.policy.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.pass;
  }

  async reapOnce(now = Date.now()): Promise<void> {
    if (this.idleActs) await this.actOnIdle(new Date(now - this.policy.idleTimeoutMs).toISOString());
    if (this.policy.stopAfterPausedMs > 0) await this.stopLongPaused(new Date(now - this.policy.stopAfterPausedMs).toISOString());
  }

  private async actOnIdle(cutoff: string): Promise<void> {
    const idle = await this.list(() => this.sandboxes.listIdle(cutoff));
    for (const record of idle) {
      if (this.orchestrator.isExecuting(record.id)) continue;
      // Re-checked under the sandbox's lock: activity since the listing wins.
      const stillIdle = (fresh: SandboxRecord) =>
        fresh.status === 'RUNNING' && !fresh.paused_at && fresh.keep_alive === 0 && fresh.last_active_at < cutoff && !this.orchestrator.isExecuting(fresh.id);
      try {
        if (this.policy.idleAction === 'pause' && this.orchestrator.canPause(record)) await this.orchestrator.pause(record, 'idle', stillIdle);
        else await this.orchestrator.stop(record, 'idle', stillIdle);
      } catch (err) {
        this.log.error('idle reaper: could not act on an idle sandbox', { sandbox: record.id, action: this.policy.idleAction, err });
      }
    }
  }

  private async stopLongPaused(cutoff: string): Promise<void> {
    const paused = await this.list(() => this.sandboxes.listPausedSince(cutoff));
    for (const record of paused) {
      try {
        await this.orchestrator.stop(record, 'paused too long', (fresh) => fresh.status === 'RUNNING' && fresh.keep_alive === 0 && !!fresh.paused_at && fresh.paused_at < cutoff);
      } catch (err) {
        this.log.error('idle reaper: could not stop a long-paused sandbox', { sandbox: record.id, err });
      }
    }
  }

  private async list(query: () => Promise<SandboxRecord[]>): Promise<SandboxRecord[]> {
    try {
      return await query();
    } catch (err) {
      this.log.error('idle reaper: cannot list sandboxes', { err });
      return [];
    }
  }
}
