/**
 * A real provider whose chosen bases look unbuilt and whose builds of them wait for the test:
 * each reports 40 % (`<base>: packages`) and then holds until `release()` (it then reports the
 * base ready; later calls go to the real provider, whose images are built) or `fail(message)`.
 * Aborting the build's signal (a server shutting down) rejects it. Real images take minutes.
 */
import type { ProgressEvent, Provider } from '@pocketenv/runtime';

export interface Gate {
  /** Fraction the fake build reports while it waits. */
  progress: number;
  release(): void;
  fail(message: string): void;
  /** How many times a build of it started. */
  started: number;
}

/** The real provider, except that `gated` bases look unbuilt and their build waits for the test. */
export function gatedProvider(real: Provider, gated: string[]): Provider & { gate(base: string): Gate } {
  const gates = new Map<string, Gate & { open: boolean; waiters: Array<(err?: Error) => void> }>();
  for (const base of gated) {
    const gate = {
      progress: 0.4,
      open: false,
      started: 0,
      waiters: [] as Array<(err?: Error) => void>,
      release: () => {
        gate.open = true;
        gate.waiters.splice(0).forEach((w) => w());
      },
      fail: (message: string) => gate.waiters.splice(0).forEach((w) => w(new Error(message))),
    };
    gates.set(base, gate);
  }
  const closed = (base: string) => gates.has(base) && !gates.get(base)!.open;
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'gate') return (base: string) => gates.get(base);
      if (prop === 'listBases') {
        return async () => (await target.listBases()).map((b) => (closed(b.name) ? { ...b, ready: false } : b));
      }
      if (prop === 'prepareBase') {
        return async (base: string, onProgress?: (e: ProgressEvent) => void, signal?: AbortSignal) => {
          const gate = gates.get(base);
          if (!gate || gate.open) return target.prepareBase(base, onProgress, signal);
          gate.started++;
          onProgress?.({ phase: `${base}: packages`, fraction: gate.progress, message: 'apt-get install …' });
          await new Promise<void>((resolve, reject) => {
            gate.waiters.push((err) => (err ? reject(err) : resolve()));
            signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
          });
          onProgress?.({ phase: `${base}: ready`, fraction: 1 });
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as Provider & { gate(base: string): Gate };
}
