/**
 * Deletes expired archives: once at start (after cleaning up what a crash left), then every
 * POCKETENV_EXPIRY_SWEEP_INTERVAL. Reads never depend on it: an expired archive or backup
 * is "not found" the moment it expires; the sweeper only frees the disk.
 */
import type { AppContext } from '../context';

export interface Sweepable {
  prepare(): Promise<void>;
  sweep(now?: Date): Promise<number>;
}

export function startSweeper(ctx: AppContext, name: string, store: Sweepable): { stop(): Promise<void> } {
  const { sweepIntervalMs } = ctx.config.transfer;
  let running: Promise<void> = store.prepare().then(() => sweepOnce());
  running.catch((err: unknown) => ctx.log.error(`${name}: could not prepare the store`, { err }));
  let stopped = false;

  async function sweepOnce(): Promise<void> {
    const removed = await store.sweep();
    if (removed > 0) ctx.log.info(`${name}.expired`, { removed });
  }

  const timer = setInterval(() => {
    running = running
      .catch(() => undefined)
      .then(() => (stopped ? undefined : sweepOnce()))
      .catch((err: unknown) => ctx.log.warn(`${name}: expiry sweep failed`, { err }));
  }, sweepIntervalMs);
  timer.unref();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running.catch(() => undefined);
    },
  };
}
