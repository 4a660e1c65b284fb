/**
 * The host's bound on one exec, whatever the command or the exec agent do.
 *
 * One absolute deadline covers everything from the moment the exec was asked for: reaching
 * the agent, the agent's confirmation, the output and the exit. At the deadline, or when the
 * caller goes away, the command is killed; if it has not ended KILL_GRACE_MS later (an agent
 * that ignores the kill, a stuck runtime), the host stops waiting for it (`abandon`). So an
 * exec always ends by deadline + grace.
 */
import type { RunningExec } from './running-exec';

/** After a kill, how long the host waits for the command's exit before it stops waiting. */
export const KILL_GRACE_MS = 3000;

export class ExecGuard {
  private readonly launchAbort = new AbortController();
  /** Aborts the start of the command (the deadline passed or the caller went away before it started). */
  readonly launchSignal = this.launchAbort.signal;
  /** The deadline (not the caller) stopped it. */
  timedOut = false;
  /** The command did not end within the grace after its kill: the host stopped waiting. */
  abandoned = false;
  private stopping = false;
  private run?: RunningExec;
  private readonly timer?: NodeJS.Timeout;
  private readonly onStop: Array<() => void> = [];

  constructor(
    deadlineAt: number | undefined,
    private readonly caller?: AbortSignal,
  ) {
    if (deadlineAt !== undefined) {
      this.timer = setTimeout(() => {
        this.timedOut = true;
        this.stop();
      }, Math.max(0, deadlineAt - Date.now()));
    }
    if (caller?.aborted) this.stop();
    else caller?.addEventListener('abort', this.callerLeft, { once: true });
  }

  get stopped(): boolean {
    return this.stopping;
  }

  /** The command started: from now on a stop kills it. */
  attach(run: RunningExec): void {
    this.run = run;
    if (this.stopping) this.end(run);
  }

  /** Runs `fn` when the command is being stopped (before the kill), e.g. to resume paused output. */
  whenStopping(fn: () => void): void {
    this.onStop.push(fn);
  }

  /** Kills the command (or gives up its start), then stops waiting for it after the grace. */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.launchAbort.abort();
    if (this.run) this.end(this.run);
  }

  /** The command exited: what it left running in the background is not ours to kill. */
  disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.caller?.removeEventListener('abort', this.callerLeft);
  }

  private readonly callerLeft = () => this.stop();

  private end(run: RunningExec): void {
    for (const fn of this.onStop) fn();
    void run.killTree().catch(() => undefined);
    const grace = setTimeout(() => {
      this.abandoned = true;
      run.abandon();
    }, KILL_GRACE_MS);
    const settled = () => clearTimeout(grace);
    run.exited.then(settled, settled);
  }
}
