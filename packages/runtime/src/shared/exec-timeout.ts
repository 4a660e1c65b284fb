/**
 * An exec's deadline and abort signal: either kills the command's whole process tree (how is
 * the provider's business: `killTree`). Returns the disarm function to call once the command
 * has exited, so what it left running in the background is not killed later.
 */
export function armTimeout(timeoutMs: number | undefined, signal: AbortSignal | undefined, run: { killTree(): Promise<void> }, onTimeout: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  if (timeoutMs !== undefined && timeoutMs > 0) {
    timer = setTimeout(() => {
      onTimeout();
      void run.killTree();
    }, timeoutMs);
  }
  const onAbort = () => void run.killTree();
  if (signal) {
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  }
  return () => {
    if (timer) clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  };
}
