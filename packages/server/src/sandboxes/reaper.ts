/**
 * Stops keepAlive:false sandboxes that have been idle (no start, exec or other activity)
 * for `idleTimeoutMs`. keepAlive:true sandboxes are never touched. Runs on a timer; each
 * pass is skipped if the previous one is still going.
 */
import type { Logger } from '../log';
import type { Orchestrator } from './orchestrator';
import type { SandboxRepository } from './repository';

export class IdleReaper {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;

  constructor(
    private readonly sandboxes: SandboxRepository,
    private readonly orchestrator: Orchestrator,
    private readonly log: Logger,
    private readonly idleTimeoutMs: number,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    if (this.idleTimeoutMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      if (!this.pass) this.pass = this.reapOnce().finally(() => (this.pass = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.pass;
  }

  async reapOnce(now = Date.now()): Promise<void> {
    const cutoff = new Date(now - this.idleTimeoutMs).toISOString();
    let idle;
    try {
      idle = await this.sandboxes.listIdle(cutoff);
    } catch (err) {
      this.log.error('idle reaper: cannot list sandboxes', { err });
      return;
    }
    for (const record of idle) {
      if (this.orchestrator.isExecuting(record.id)) continue;
      try {
        // Re-checked under the sandbox's lock: activity since the listing wins.
        await this.orchestrator.stop(record, 'idle', (fresh) =>
          fresh.status === 'RUNNING' && fresh.keep_alive === 0 && fresh.last_active_at < cutoff && !this.orchestrator.isExecuting(fresh.id),
        );
      } catch (err) {
        this.log.error('idle reaper: could not stop an idle sandbox', { sandbox: record.id, err });
      }
    }
  }
}
