/**
 * Sandbox activity held in memory between writes. `touch` used to be a database write, twice
 * per exec; now the newest time per sandbox waits here and is written at most once a
 * second per sandbox, in the background. Readers overlay what is pending, so nothing that
 * reads a record sees an older "last activity" than the one recorded.
 */
import type { SandboxRecord } from '../db/schema';

/** How long activity may wait in memory before it is written. */
export const ACTIVITY_FLUSH_MS = 1000;

export class ActivityBuffer {
  /** Sandbox id → newest activity (ISO time) not yet written. */
  private readonly pending = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly write: (id: string, at: string) => Promise<void>) {}

  record(id: string, at: string): void {
    const known = this.pending.get(id);
    if (known === undefined || known < at) this.pending.set(id, at);
    if (!this.timer) this.schedule();
  }

  private schedule(): void {
    this.timer = setTimeout(() => void this.flush(), ACTIVITY_FLUSH_MS);
    this.timer.unref(); // shutdown flushes explicitly
  }

  /** The record with any newer pending activity applied. */
  overlay<R extends SandboxRecord | undefined>(record: R): R {
    if (!record) return record;
    const at = this.pending.get(record.id);
    return at !== undefined && at > record.last_active_at ? { ...record, last_active_at: at } : record;
  }

  forget(id: string): void {
    this.pending.delete(id);
  }

  /** Writes everything pending; resolves once what was pending when called is in the database. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = [...this.pending];
    // Written one after another on the one connection; entries leave the map only once
    // written (and only if no newer time arrived meanwhile), so readers never miss one.
    this.writing = this.writing.then(async () => {
      for (const [id, at] of batch) {
        try {
          await this.write(id, at);
        } catch {
          continue; // kept: the next flush tries again
        }
        if (this.pending.get(id) === at) this.pending.delete(id);
      }
      if (this.pending.size > 0 && !this.timer) this.schedule();
    });
    return this.writing;
  }
}
