/**
 * A one-line progress bar on stderr for transfers (`pocketenv cp`): a bar with percent and
 * sizes when the total is known, a spinner and the amount so far when it is not. Terminal
 * only: in pipes and logs nothing is drawn. Redraws at most every 100 ms.
 */
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const REDRAW_MS = 100;
const BAR_WIDTH = 24;

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): boolean;
}

export type ProgressUnit = 'bytes' | 'entries';

/** "12.3 MiB", "512 B", "1 200 files". */
export function formatAmount(n: number, unit: ProgressUnit): string {
  if (unit === 'entries') return `${n} ${n === 1 ? 'file' : 'files'}`;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${value.toFixed(1)} ${units[i]}`;
}

/**
 * The text of one progress line (without colours or escapes), fitted to `width` columns.
 * @example
 * renderProgress('Uploading', 512, 1024, 'bytes', 80, 0); // "Uploading [############------------]  50% 512 B / 1.0 KiB"
 */
export function renderProgress(label: string, done: number, total: number | undefined, unit: ProgressUnit, width: number, frame: number): string {
  let line: string;
  if (total !== undefined && total > 0) {
    const fraction = Math.min(1, Math.max(0, done / total));
    const filled = Math.round(fraction * BAR_WIDTH);
    const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
    line = `${label} [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${percent} ${formatAmount(done, unit)} / ${formatAmount(total, unit)}`;
  } else {
    line = `${FRAMES[frame % FRAMES.length]} ${label}${done > 0 ? ` ${formatAmount(done, unit)}` : ''}`;
  }
  return line.length > width ? line.slice(0, Math.max(0, width - 1)) : line;
}

export class ProgressBar {
  private lastDraw = 0;
  private frame = 0;
  private drawn = false;
  private ticker: NodeJS.Timeout | undefined;
  private state: { label: string; done: number; total?: number; unit: ProgressUnit } | undefined;

  constructor(private readonly stream: ProgressStream) {
    // Keeps the spinner moving while nothing reports progress (the server is working).
    if (stream.isTTY) {
      this.ticker = setInterval(() => this.draw(true), REDRAW_MS * 2);
      this.ticker.unref();
    }
  }

  update(label: string, done: number, total: number | undefined, unit: ProgressUnit): void {
    const phaseChanged = this.state?.label !== label;
    this.state = { label, done, total, unit };
    this.draw(phaseChanged || (total !== undefined && done >= total));
  }

  /** Erases the line; call before printing anything else. */
  stop(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
    if (this.drawn) this.stream.write('\r\u001b[2K');
    this.drawn = false;
  }

  private draw(force: boolean): void {
    if (!this.stream.isTTY || !this.state || !this.ticker) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    const { label, done, total, unit } = this.state;
    const columns = this.stream.columns && this.stream.columns > 20 ? this.stream.columns : 80;
    this.stream.write(`\r\u001b[2K${renderProgress(label, done, total, unit, columns - 1, this.frame++)}`);
    this.drawn = true;
  }
}
