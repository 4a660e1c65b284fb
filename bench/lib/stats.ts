/** Percentiles and table printing shared by the benchmarks. */
export interface Series {
  label: string;
  samplesMs: number[];
}

/** Nearest-rank percentile (the safety suites use it too, so their figures read the same). */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export async function sample(iterations: number, fn: () => Promise<unknown>, warmup = 2): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < iterations; i++) out.push(await timeIt(fn));
  return out;
}

/** Prints a Markdown table: p50/p99 per series and the ratio of each p50 to the reference's p50. */
export function printTable(title: string, series: Series[], reference: string): void {
  const ref = series.find((s) => s.label === reference);
  const refP50 = ref ? percentile(ref.samplesMs, 50) : NaN;
  console.log(`\n### ${title}\n`);
  console.log('| what | n | p50 ms | p99 ms | p50 ratio vs ' + reference + ' |');
  console.log('|---|---|---|---|---|');
  for (const s of series) {
    if (s.samplesMs.length === 0) {
      console.log(`| ${s.label} | 0 | – | – | (not measured) |`);
      continue;
    }
    const p50 = percentile(s.samplesMs, 50);
    const p99 = percentile(s.samplesMs, 99);
    console.log(`| ${s.label} | ${s.samplesMs.length} | ${p50.toFixed(1)} | ${p99.toFixed(1)} | ${(p50 / refP50).toFixed(2)}× |`);
  }
}
