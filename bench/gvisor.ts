/**
 * The two isolation levels in ONE run on ONE server (warm pool off, so both levels boot cold):
 *
 *   1. create → first exec answered (`echo ready`), through the SDK over HTTP;
 *   2. exec round trip (`echo ready`) on a running sandbox;
 *   3. memory per idle sandbox (its cgroup: for gVisor that holds gVisor's kernel and gofer too),
 *      and the host's MemAvailable delta;
 *   4. workloads, wall time of one exec each: CPU-heavy (a Python loop; the debian base has no
 *      gcc), syscall-heavy (`find /usr | wc -l`), process-heavy (200 × /bin/true).
 *
 * Every table gives p50/p99 and the p50 ratio gvisor/standard, so users can choose knowingly.
 * Run (as root, after `pocketenv setup`, with runsc installed):
 *   npx tsx bench/gvisor.ts [--iterations 10] [--idle 3] [--workload-runs 3]
 * Prints Markdown; asserts nothing. Traffic: loopback only.
 */
import { execFileSync } from 'node:child_process';
import { pocketenv, sandbox } from '@pocketenv/sdk';
import { memAvailableMiB, sandboxMemoryMiB } from './lib/memory';
import { numberArg as arg } from './lib/args';
import { BenchServer } from './lib/server';
import { percentile, printTable, sample, timeIt, type Series } from './lib/stats';

const iterations = arg('iterations', 10);
const idleCount = arg('idle', 3);
const workloadRuns = arg('workload-runs', 3);
const LEVELS = ['standard', 'gvisor'] as const;
type Level = (typeof LEVELS)[number];

const WORKLOADS: Record<string, string> = {
  'CPU-heavy: python3 loop (3M multiplications)': 'python3 -c "print(sum(i * i for i in range(3_000_000)))"',
  'syscall-heavy: find /usr | wc -l': 'find /usr | wc -l',
  'process-heavy: 200 × /bin/true': 'i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done; echo $i',
};

async function main(): Promise<void> {
  console.log(`# gVisor vs standard isolation\n\nload average at start: ${execFileSync('cat', ['/proc/loadavg']).toString().trim()}; runsc: ${execFileSync('runsc', ['--version']).toString().split('\n')[0]}`);
  const server = await BenchServer.start('gvisor', { POCKETENV_POOL_SIZE: '0', POCKETENV_ISOLATION_ALLOWED: 'standard,gvisor' });
  const client = pocketenv.newClient(server.token, { baseUrl: server.url });
  const builder = (level: Level) => sandbox.withIsolation(sandbox.new(client, undefined, 'debian', 'local'), level);
  try {
    const levels = (await (await fetch(`${server.url}/xrpc/io.pocketenv.server.describeServer`)).json()) as { isolationLevels: { name: string; detail?: string }[] };
    for (const l of levels.isolationLevels) console.log(`- ${l.name}: ${l.detail ?? ''}`);

    // 1. create → first exec
    const createToExec: Series[] = [];
    for (const level of LEVELS) {
      const samplesMs: number[] = [];
      for (let i = 0; i < iterations; i++) {
        let created: Awaited<ReturnType<typeof sandbox.create>> | undefined;
        samplesMs.push(
          await timeIt(async () => {
            created = await sandbox.create(builder(level));
            const r = await sandbox.exec(created, 'echo ready');
            if (r.stdout !== 'ready\n') throw new Error(`unexpected output ${JSON.stringify(r)}`);
          }),
        );
        await sandbox.delete(created!);
      }
      createToExec.push({ label: level, samplesMs });
    }
    printTable('create → first exec answered (SDK over HTTP, pool off)', createToExec, 'standard');

    // 2 + 4. exec round trip and workloads on one running sandbox per level
    const running = Object.fromEntries(await Promise.all(LEVELS.map(async (l) => [l, await sandbox.create(builder(l))] as const))) as Record<Level, Awaited<ReturnType<typeof sandbox.create>>>;
    const roundTrip: Series[] = [];
    for (const level of LEVELS) roundTrip.push({ label: level, samplesMs: await sample(iterations * 3, () => sandbox.exec(running[level], 'echo ready')) });
    printTable('exec `echo ready` round trip (SDK over HTTP, exec agent)', roundTrip, 'standard');
    for (const [title, command] of Object.entries(WORKLOADS)) {
      const series: Series[] = [];
      for (const level of LEVELS) {
        series.push({
          label: level,
          samplesMs: await sample(workloadRuns, async () => {
            const r = await sandbox.exec(running[level], command);
            if (r.exitCode !== 0) throw new Error(`${command} at ${level}: exit ${r.exitCode} ${r.stderr}`);
          }, 1),
        });
      }
      printTable(`${title} (one exec, wall time)`, series, 'standard');
    }
    for (const level of LEVELS) await sandbox.delete(running[level]);

    // 3. memory per idle sandbox
    console.log('\n### memory per idle sandbox\n');
    console.log('| level | sandboxes | cgroup usage MiB p50 | cgroup rss MiB p50 | MemAvailable drop per sandbox MiB | ratio (usage p50) |');
    console.log('|---|---|---|---|---|---|');
    let standardUsage = NaN;
    for (const level of LEVELS) {
      const before = memAvailableMiB();
      const idle = [];
      for (let i = 0; i < idleCount; i++) idle.push(await sandbox.create(builder(level)));
      await new Promise((r) => setTimeout(r, 5000)); // let boot-time allocations settle
      const mem = idle.map((sb) => sandboxMemoryMiB(sb.id)).filter((m): m is { usage: number; rss: number } => !!m);
      const drop = (before - memAvailableMiB()) / idleCount;
      const usage = percentile(mem.map((m) => m.usage), 50);
      if (level === 'standard') standardUsage = usage;
      console.log(`| ${level} | ${idleCount} | ${usage.toFixed(1)} | ${percentile(mem.map((m) => m.rss), 50).toFixed(1)} | ${drop.toFixed(1)} | ${(usage / standardUsage).toFixed(2)}× |`);
      for (const sb of idle) await sandbox.delete(sb);
    }
  } finally {
    await server.stop();
  }
}

await main();
