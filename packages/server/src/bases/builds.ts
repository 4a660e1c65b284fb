/**
 * The server's builds (base images, code-server), one at a time, in the background: what the
 * server builds after it starts listening (POCKETENV_PREBUILD), and what a request needs built
 * (a create of an unbuilt base, the first `vscode`), which goes to the front of the queue. Every
 * build of this server goes through here, so two never compete for the CPU and the disk, and
 * describeServer can tell where each one stands (status, percent, an estimate).
 *
 * The builds themselves (runtime) take machine-wide locks, so another process (`pocketenv
 * setup`, a second server) building the same thing is waited for, not repeated.
 */
import type { Logger } from '../log';

export type BuildStatus = 'ready' | 'building' | 'queued' | 'failed';

export interface BuildJob {
  /** Unique per thing built, e.g. `base:local/node`, `tool:code-server`. */
  key: string;
  /** How logs and messages name it: `base node`, `code-server`. */
  label: string;
  /** Cheap (a marker file): true when nothing needs building. */
  isReady(): Promise<boolean>;
  /** Builds it; `progress` takes a 0..1 fraction when known and the current step. */
  run(progress: (fraction: number | undefined, step: string) => void, signal: AbortSignal): Promise<void>;
  /** What a build usually takes on a 2-core host, for estimates until it reports progress. */
  typicalSeconds: number;
  /**
   * Whether its progress fraction advances with time (apt and mmdebstrap count packages), so
   * its pace predicts the rest. False for builds that report a few coarse steps (code-server:
   * one `npm install` is most of it): their estimate counts down from the typical duration.
   */
  paced: boolean;
}

export interface BuildState {
  status: BuildStatus;
  /** 0..100 while building. */
  progress?: number;
  /** The build's current step (`packages`, `npm`, …). */
  step?: string;
  /** Rough seconds until ready: the build's own pace once it is under way, typical durations before. */
  readyInSeconds?: number;
  /** Why the last build failed (status `failed`); the next request for it tries again. */
  error?: string;
}

interface Entry {
  job: BuildJob;
  status: BuildStatus;
  fraction?: number;
  step?: string;
  startedAt?: number;
  error?: string;
  /** Settles when the build in progress (or queued) ends; replaced on a retry. */
  done: Deferred;
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(err: Error): void;
}

/** Progress lines in the log: at each new step and every 10 %. */
const LOG_EVERY_PERCENT = 10;

export class BuildQueue {
  private readonly entries = new Map<string, Entry>();
  private readonly queue: Entry[] = [];
  private current?: Entry;
  private running?: Promise<void>;
  private readonly abort = new AbortController();

  constructor(private readonly log: Logger) {}

  /**
   * Queues `job` (at the end, or next when `urgent`) unless it is built, being built or queued
   * already (an urgent job that waits in the queue moves up). A failed job is queued again.
   * Resolves once its state is known (a built one is `ready` at once).
   */
  async add(job: BuildJob, opts: { urgent?: boolean } = {}): Promise<void> {
    if (this.abort.signal.aborted) return;
    let entry = this.entries.get(job.key);
    if (entry && (entry.status === 'building' || entry.status === 'ready')) return;
    if (entry?.status === 'queued') {
      if (opts.urgent) this.moveToFront(entry);
      return;
    }
    const ready = await job.isReady();
    entry = this.entries.get(job.key); // another add may have run meanwhile
    if (entry && entry.status !== 'failed') return;
    const fresh: Entry = { job, status: ready ? 'ready' : 'queued', done: deferred() };
    this.entries.set(job.key, fresh);
    if (ready) return fresh.done.resolve();
    if (opts.urgent) this.queue.unshift(fresh);
    else this.queue.push(fresh);
    this.log.info('build.queued', { build: job.label, position: this.queue.indexOf(fresh) + 1 });
    this.pump();
  }

  /**
   * Resolves when the job is built: queues it next if needed, then waits at most `waitMs`.
   * Rejects with the build's error, or with {@link BuildPendingError} (carrying the state) when
   * the wait runs out first; the build goes on either way.
   */
  async ready(job: BuildJob, waitMs: number): Promise<void> {
    await this.add(job, { urgent: true });
    if (this.abort.signal.aborted) throw new Error(`${job.label} is not built: the server is shutting down`);
    const entry = this.entries.get(job.key);
    if (!entry || entry.status === 'ready') return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), waitMs)));
    try {
      if ((await Promise.race([entry.done.promise.then(() => 'done' as const), timeout])) === 'timeout') {
        throw new BuildPendingError(job.label, this.state(job.key)!);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Where a job stands; undefined when it was never added. */
  state(key: string): BuildState | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    switch (entry.status) {
      case 'ready':
        return { status: 'ready' };
      case 'failed':
        return { status: 'failed', error: entry.error };
      case 'building':
        return {
          status: 'building',
          ...(entry.fraction !== undefined ? { progress: Math.floor(entry.fraction * 100) } : {}),
          ...(entry.step ? { step: entry.step } : {}),
          readyInSeconds: Math.round(this.remainingSeconds(entry)),
        };
      case 'queued': {
        const ahead = this.queue.slice(0, this.queue.indexOf(entry) + 1);
        const wait = (this.current ? this.remainingSeconds(this.current) : 0) + ahead.reduce((sum, e) => sum + e.job.typicalSeconds, 0);
        return { status: 'queued', readyInSeconds: Math.round(wait) };
      }
    }
  }

  /** Stops: nothing more starts, and the build in progress is stopped (it leaves nothing half-built). */
  async stop(): Promise<void> {
    this.abort.abort(new Error('the server is shutting down'));
    for (const entry of this.queue.splice(0)) entry.done.reject(new Error(`${entry.job.label} was not built: the server is shutting down`));
    await this.running;
  }

  private moveToFront(entry: Entry): void {
    this.queue.splice(this.queue.indexOf(entry), 1);
    this.queue.unshift(entry);
  }

  private pump(): void {
    if (this.current || this.abort.signal.aborted) return;
    const next = this.queue.shift();
    if (!next) return;
    this.current = next;
    this.running = this.build(next).finally(() => {
      this.current = undefined;
      this.running = undefined;
      this.pump();
    });
  }

  private async build(entry: Entry): Promise<void> {
    const { job } = entry;
    entry.status = 'building';
    entry.startedAt = Date.now();
    entry.fraction = undefined;
    let logged = { step: '', percent: -LOG_EVERY_PERCENT };
    this.log.info('build.started', { build: job.label });
    try {
      await job.run((fraction, step) => {
        if (fraction !== undefined) entry.fraction = Math.min(1, Math.max(entry.fraction ?? 0, fraction));
        entry.step = step;
        const percent = Math.floor((entry.fraction ?? 0) * 100);
        if (step !== logged.step || percent >= logged.percent + LOG_EVERY_PERCENT) {
          logged = { step, percent };
          this.log.info('build.progress', { build: job.label, step, progress: percent, readyInSeconds: Math.round(this.remainingSeconds(entry)) });
        }
      }, this.abort.signal);
      entry.status = 'ready';
      this.log.info('build.ready', { build: job.label, seconds: Math.round((Date.now() - entry.startedAt) / 1000) });
      entry.done.resolve();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      entry.status = 'failed';
      entry.error = message;
      if (this.abort.signal.aborted) this.log.info('build.stopped', { build: job.label });
      else this.log.error('build.failed', { build: job.label, err });
      entry.done.reject(err instanceof Error ? err : new Error(message));
    }
  }

  private remainingSeconds(entry: Entry): number {
    const { typicalSeconds, paced } = entry.job;
    const elapsed = (Date.now() - (entry.startedAt ?? Date.now())) / 1000;
    const f = entry.fraction ?? 0;
    // Early fractions (downloads, apt's first steps) say little about the pace; trust them from 10 %.
    if (paced && f >= 0.1 && elapsed >= 2) return Math.max(1, (elapsed / f) * (1 - f));
    // Counting down from the typical duration; a slow build is "almost done", not "1 s" for minutes.
    return Math.max(typicalSeconds * 0.05, typicalSeconds - elapsed, 1);
  }
}

/** The wait for a build ran out; `state` says how far it is. */
export class BuildPendingError extends Error {
  override name = 'BuildPendingError';
  constructor(
    readonly label: string,
    readonly state: BuildState,
  ) {
    super(`${label} is ${describeState(state)}`);
  }
}

/** "being built (45 %, ready in about 30 s)", "queued (ready in about 2 min)". */
export function describeState(state: BuildState): string {
  const eta = state.readyInSeconds !== undefined ? `ready in about ${formatSeconds(state.readyInSeconds)}` : undefined;
  switch (state.status) {
    case 'ready':
      return 'ready';
    case 'failed':
      return `not built: its build failed (${state.error ?? 'unknown error'})`;
    case 'building':
      return `being built (${[state.progress !== undefined ? `${state.progress} %` : undefined, eta].filter(Boolean).join(', ')})`;
    case 'queued':
      return `waiting to be built${eta ? ` (${eta})` : ''}`;
  }
}

export function formatSeconds(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  return `${Math.round(seconds / 60)} min`;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Nobody may be waiting: a failure is recorded in the entry, not an unhandled rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
