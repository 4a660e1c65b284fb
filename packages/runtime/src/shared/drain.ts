/** Waiting for a command's output pipes after it exited (every provider that spawns a host process). */
import type { Readable } from 'node:stream';

/** After the command exits, how long background processes may keep its output pipes open. */
const DRAIN_GRACE_MS = 300;

/** Resolves once both output streams ended, or DRAIN_GRACE_MS after `exited`. */
export function drained(child: { stdout: Readable; stderr: Readable }, exited: Promise<unknown>): Promise<void> {
  const ends = [child.stdout, child.stderr].map(
    (s) => new Promise<void>((resolve) => (s.readableEnded || s.destroyed ? resolve() : s.once('close', () => resolve()))),
  );
  return new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      resolve();
    };
    void Promise.all(ends).then(finish);
    void exited.then(() => {
      if (done) return;
      timer = setTimeout(() => {
        // A background process inherited the pipes; stop waiting for it.
        child.stdout.destroy();
        child.stderr.destroy();
        finish();
      }, DRAIN_GRACE_MS);
    });
  });
}
