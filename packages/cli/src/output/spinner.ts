const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
/** Quick calls finish without any spinner flashing by. */
const SHOW_AFTER_MS = 1_000;

export interface SpinnerStream {
  isTTY?: boolean;
  write(chunk: string): boolean;
}

/**
 * Runs `work`, showing `label` with a spinner on `stream` if it takes longer than a second.
 * Only on a terminal: in pipes and logs nothing is written. The line is erased afterwards.
 * A function label is read at every frame (for progress that changes while waiting).
 */
export async function withSpinner<T>(stream: SpinnerStream, label: string | (() => string), work: () => Promise<T>): Promise<T> {
  if (!stream.isTTY) return work();
  let frame = 0;
  let ticker: NodeJS.Timeout | undefined;
  const text = typeof label === 'function' ? label : () => label;
  const draw = () => stream.write(`\r\u001b[2K${FRAMES[frame++ % FRAMES.length]} ${text()}`);
  const delay = setTimeout(() => {
    draw();
    ticker = setInterval(draw, 80);
  }, SHOW_AFTER_MS);
  try {
    return await work();
  } finally {
    clearTimeout(delay);
    if (ticker) {
      clearInterval(ticker);
      stream.write('\r\u001b[2K');
    }
  }
}
