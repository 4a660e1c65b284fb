/**
 * Renders ProgressEvents in a terminal: one redrawn line with a bar on a TTY,
 * plain lines otherwise (CI logs, pipes, NO_COLOR) — and then only when the
 * phase changes or every 10 %, so logs stay readable.
 */
import type { ProgressEvent } from '../provider/types';

const BAR_WIDTH = 24;

/** `env`: the caller's environment (NO_COLOR, TERM), read by the CLI once at start. */
export function renderProgress(stream: NodeJS.WriteStream, env: Readonly<Record<string, string | undefined>>): (e: ProgressEvent) => void {
  const fancy = Boolean(stream.isTTY) && !('NO_COLOR' in env) && env.TERM !== 'dumb';
  let lastPhase = '';
  let lastTenth = -1;

  return (e: ProgressEvent) => {
    const pct = e.fraction === undefined ? undefined : Math.round(Math.min(1, Math.max(0, e.fraction)) * 100);
    if (!fancy) {
      const tenth = pct === undefined ? -1 : Math.floor(pct / 10);
      if (e.phase === lastPhase && tenth === lastTenth) return;
      lastPhase = e.phase;
      lastTenth = tenth;
      stream.write(`${e.phase}${pct === undefined ? '' : ` ${pct}%`}${e.message ? `: ${e.message}` : ''}\n`);
      return;
    }
    const columns = stream.columns || 80;
    const bar =
      pct === undefined
        ? ''
        : `[${'#'.repeat(Math.round((pct / 100) * BAR_WIDTH)).padEnd(BAR_WIDTH, '.')}] ${String(pct).padStart(3)}% `;
    const text = `${bar}${e.phase}${e.message ? `: ${e.message}` : ''}`;
    stream.write(`\r\x1b[2K${text.length > columns - 1 ? text.slice(0, columns - 2) + '…' : text}`);
    // A finished step keeps its line; the next one starts below it.
    if (pct === 100) stream.write('\n');
  };
}
