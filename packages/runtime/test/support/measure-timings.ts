/**
 * Prints how long the local provider's operations take (median of a few runs).
 * A measurement, not a test: nothing is asserted.
 *
 *   cd /work/main && node --import tsx packages/runtime/test/support/measure-timings.ts [runs] [crun|runc]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalProvider } from '../../src/local/index';
import { createSpec, uniqueId } from './local';

const runs = Number(process.argv[2] ?? 5);
const ociRuntime = (process.argv[3] as 'crun' | 'runc' | undefined) ?? undefined;
const stateDir = mkdtempSync(join(tmpdir(), 'pe-measure-'));
const provider = new LocalProvider({ stateDir, ...(ociRuntime ? { ociRuntime } : {}) });
const samples: Record<string, number[]> = {};

async function timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = process.hrtime.bigint();
  const result = await fn();
  (samples[name] ??= []).push(Number(process.hrtime.bigint() - t0) / 1e6);
  return result;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

try {
  await provider.list(); // provider init + reconcile, outside the measurements
  // Warm-up (first-time seccomp conversion, host nft rules, page cache).
  const warm = uniqueId('mw');
  await provider.create(createSpec(warm));
  await provider.start(warm);
  await provider.exec(warm, 'true');
  await provider.delete(warm);

  for (let i = 0; i < runs; i++) {
    const id = uniqueId('m');
    await timed('create', () => provider.create(createSpec(id)));
    await timed('start', () => provider.start(id));
    await timed('first exec (echo hi)', () => provider.exec(id, 'echo hi'));
    for (let j = 0; j < 5; j++) await timed('exec (echo hi)', () => provider.exec(id, 'echo hi'));
    await timed('writeFiles (1 file)', () => provider.writeFiles(id, [{ path: '/workspace/f.txt', content: Buffer.from('x') }]));
    await timed('readFile', () => provider.readFile(id, '/workspace/f.txt'));
    await timed('stop', () => provider.stop(id));
    await timed('start again (restart)', () => provider.start(id));
    await timed('delete (running)', () => provider.delete(id));
  }
  console.log(`local provider (${await provider.runtimeName()}), median of ${runs} runs (exec: ${runs * 5} runs):`);
  for (const [name, xs] of Object.entries(samples)) {
    console.log(`  ${name.padEnd(24)} ${median(xs).toFixed(1).padStart(7)} ms   (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)})`);
  }
} finally {
  for (const s of await provider.list()) await provider.delete(s.id);
  rmSync(stateDir, { recursive: true, force: true });
}
