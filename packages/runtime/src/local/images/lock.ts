/**
 * A machine-wide exclusive lock around a base build, held by a `flock(1)` child.
 *
 * Why a child process: Node has no flock(2), and a lock held by a kernel file
 * lock cannot go stale — if this process dies, the child's stdin closes, the
 * child exits and the kernel drops the lock. No pid files, no stealing races.
 */
import { spawn } from 'node:child_process';

export interface HeldLock {
  release(): Promise<void>;
}

/**
 * Waits (without timeout) until the lock on `path` is ours; `onWait` fires once if someone else
 * holds it. Aborting `signal` gives up the wait (rejects with its reason).
 */
export function acquireLock(path: string, onWait?: () => void, signal?: AbortSignal): Promise<HeldLock> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    // `flock` keeps the fd open in `cat`, which lives until our end of stdin closes.
    const child = spawn('flock', ['--exclusive', path, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    let locked = false;
    const waitTimer = setTimeout(() => {
      if (!locked) onWait?.();
    }, 300);
    const giveUp = () => {
      if (!locked) child.kill();
    };
    signal?.addEventListener('abort', giveUp, { once: true });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      if (locked || !d.toString().includes('locked')) return;
      locked = true;
      clearTimeout(waitTimer);
      signal?.removeEventListener('abort', giveUp);
      resolve({
        release: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('close', () => done());
            child.stdin.end();
          }),
      });
    });
    child.on('error', (err) => {
      clearTimeout(waitTimer);
      reject(new Error(`cannot take build lock ${path} (is util-linux flock installed?): ${err.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(waitTimer);
      signal?.removeEventListener('abort', giveUp);
      if (!locked && signal?.aborted) reject(signal.reason);
      else if (!locked) reject(new Error(`cannot take build lock ${path}: flock exited ${code}: ${stderr.trim()}`));
    });
  });
}
