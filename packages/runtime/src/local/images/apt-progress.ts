/**
 * Turns apt/dpkg/mmdebstrap output lines into ProgressEvents with a fraction.
 *
 * Both builders print the same kinds of lines: apt's "N newly installed" (the
 * expected package count), "Get:" per download, dpkg's "Unpacking"/"Setting up"
 * per package, and (mmdebstrap) "I: <phase>" markers. A build is a sequence of
 * stages with fixed shares of the bar; inside a stage the fraction advances by
 * counting lines against the expected count, and never goes backwards.
 */
import type { ProgressEvent } from '../../provider/types';

export interface Stage {
  /** Substring of the line that starts this stage (matched case-insensitively). */
  marker: string;
  phase: string;
  /** Overall fraction at the start and end of the stage. */
  from: number;
  to: number;
  /** Message shown when the stage starts (default: the marker line itself). */
  label?: string;
  /** What a package line counts as in this stage. */
  counts?: 'download' | 'install' | 'all';
}

/** Stages of mmdebstrap 1.x (`--verbose`) in their order. */
export const MMDEBSTRAP_STAGES: Stage[] = [
  { marker: 'I: running apt-get update', phase: 'update', from: 0.0, to: 0.05 },
  { marker: 'I: downloading packages with apt', phase: 'download', from: 0.05, to: 0.3, counts: 'download' },
  { marker: 'I: extracting archives', phase: 'extract', from: 0.3, to: 0.35 },
  { marker: 'I: installing essential packages', phase: 'install', from: 0.35, to: 0.6, counts: 'install' },
  { marker: 'I: installing remaining packages inside the chroot', phase: 'install', from: 0.6, to: 0.9, counts: 'install' },
  { marker: 'I: cleaning package lists', phase: 'cleanup', from: 0.9, to: 0.93 },
];

export class AptProgress {
  private stage: Stage | undefined;
  private expected = 0;
  private done = 0;
  private last = 0;

  constructor(
    private readonly stages: Stage[],
    private readonly emit: (e: ProgressEvent) => void,
    /** Scale the whole parser into [offset, offset+span] of the caller's bar. */
    private readonly offset = 0,
    private readonly span = 1,
  ) {}

  line(line: string): void {
    const lower = line.toLowerCase();
    const next = this.stages.find((s) => lower.includes(s.marker.toLowerCase()));
    if (next && next !== this.stage) {
      this.stage = next;
      this.done = 0;
      this.report(next.from, next.label ?? line.replace(/^I:\s*/, ''));
      return;
    }
    const stage = this.stage;
    if (!stage) return;
    const newly = /(\d+) newly installed/.exec(line);
    if (newly) {
      this.expected = Number(newly[1]);
      return;
    }
    const download = /^Get:\d+\s+\S+\s+\S+\s+\S+\s+(\S+)/.exec(line);
    const install = /^(Unpacking|Setting up) (\S+)/.exec(line);
    if (stage.counts === 'download' && download) this.step(stage, 1, `downloading ${download[1]}`);
    else if (stage.counts === 'install' && install) this.step(stage, 2, `${install[1].toLowerCase()} ${install[2]}`);
    else if (stage.counts === 'all' && (download || install)) {
      this.step(stage, 3, download ? `downloading ${download[1]}` : `${install![1].toLowerCase()} ${install![2]}`);
    } else if (stage.counts === 'all' && /^npm http fetch/.test(line)) this.step(stage, 0, line.replace(/^npm http fetch \S+ \d+ /, 'fetching '));
  }

  /** Moves to an explicit stage that has no marker line (e.g. "shift ownership"). */
  enter(phase: string, fraction: number, message?: string): void {
    this.stage = { marker: '\u0000', phase, from: fraction, to: fraction };
    this.report(fraction, message);
  }

  private step(stage: Stage, linesPerPackage: number, message: string): void {
    this.done++;
    // Without a count yet, creep towards the end of the stage instead of jumping.
    const total = this.expected > 0 && linesPerPackage > 0 ? this.expected * linesPerPackage : this.done + 50;
    const within = Math.min(1, this.done / total);
    this.report(stage.from + (stage.to - stage.from) * within, message);
  }

  private report(fraction: number, message?: string): void {
    this.last = Math.max(this.last, fraction);
    this.emit({
      phase: this.stage?.phase ?? 'build',
      fraction: this.offset + this.span * this.last,
      ...(message ? { message } : {}),
    });
  }
}
