/**
 * Pocketenv against its peers, in ONE run on ONE machine (everything side by side):
 *
 *   1. create → start → exec `echo ready` → delete, through the SDK over HTTP:
 *      ours with the warm pool, ours cold, `podman run --rm` (runc) of the same base rootfs,
 *      and a bare `unshare` of the same namespaces (the floor: no rootfs, cgroup or network).
 *   2. exec `echo ready` on a running sandbox: SDK over HTTP vs `crun exec` (our fallback
 *      path, bare) vs `podman exec` vs a bare `nsenter` (the floor; unsafe, skips cgroup/seccomp).
 *   3. density: N idle sandboxes at once (memory per sandbox from its cgroup and from the
 *      host's MemAvailable, server RSS), then M concurrent execs across them (throughput).
 *
 * Run (as root, after `pocketenv setup`):  npx tsx bench/run.ts [--iterations 30] [--density 200] [--concurrent 500]
 * Prints Markdown; asserts nothing. podman missing → "not measured". Traffic: loopback only.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { pocketenv, sandbox } from '@pocketenv/sdk';
import { BaseImages } from '../packages/runtime/src/local/images/index';
import { memAvailableMiB, sandboxMemoryMiB } from './lib/memory';
import { bareNsenter, bareUnshare, podmanAvailable, podmanEnv, podmanExec, podmanRemove, podmanRun, podmanStartDetached } from './lib/peers';
import { numberArg } from './lib/args';
import { BenchServer } from './lib/server';
import { percentile, printTable, sample, timeIt, type Series } from './lib/stats';

const run = promisify(execFile);

const arg = numberArg;
const iterations = arg('iterations', 30);
const densityCount = arg('density', 200);
const concurrentExecs = arg('concurrent', 500);
const POOL_SIZE = 2;

const imageDir = process.env.POCKETENV_IMAGE_DIR ?? '/var/cache/pocketenv/images';

function clientOf(server: BenchServer) {
  return pocketenv.newClient(server.token, { baseUrl: server.url });
}

type Client = ReturnType<typeof clientOf>;

async function createExecDelete(client: Client, split?: { createToExec: number[] }): Promise<void> {
  const t0 = process.hrtime.bigint();
  const sb = await sandbox.create(sandbox.new(client, undefined, 'debian', 'local'));
  await sandbox.start(sb);
  const r = await sandbox.exec(sb, 'echo ready');
  split?.createToExec.push(Number(process.hrtime.bigint() - t0) / 1e6);
  if (r.stdout !== "ready\n") throw new Error(`unexpected output ${JSON.stringify(r)}`);
  await sandbox.delete(sb);
}

function ociRootOf(server: BenchServer): string {
  return `${server.dataDir}/runtime/local/oci`;
}

function initPidOf(server: BenchServer, id: string): number {
  const state = JSON.parse(execFileSync('crun', ['--root', ociRootOf(server), 'state', `pe-${id}`]).toString()) as { pid: number };
  return state.pid;
}

async function lifecycleBench(pooled: BenchServer, cold: BenchServer, rootfs: string): Promise<{ idlePooled: { usage: number; rss: number }[] }> {
  const series: Series[] = [];
  const split: Series[] = [];

  // With the pool: each iteration starts when the pool is full again (time to first command
  // for a caller who finds a warm sandbox; refill runs between iterations, not during them).
  const pooledClient = clientOf(pooled);
  const pooledSplit = { createToExec: [] as number[] };
  const pooledSamples: number[] = [];
  const idlePooled: { usage: number; rss: number }[] = [];
  const idleIds = new Set<string>();
  const poolFull = async () => {
    const lastIndex = (match: (l: (typeof pooled.logs)[number]) => boolean) => {
      for (let i = pooled.logs.length - 1; i >= 0; i--) if (match(pooled.logs[i]!)) return i;
      return -1;
    };
    const full = lastIndex((l) => l.msg === 'pool.ready' && l.idle === POOL_SIZE);
    const taken = lastIndex((l) => l.msg === 'sandbox.transition' && l.pooled === true);
    if (full > taken && full >= 0) return;
    await pooled.next((l) => l.msg === 'pool.ready' && l.idle === POOL_SIZE);
  };
  for (const l of pooled.logs) if (l.msg === 'pool.ready') idleIds.add(l.sandbox as string);
  for (let i = 0; i < iterations + 2; i++) {
    await poolFull();
    if (i === 0) {
      await new Promise((r) => setTimeout(r, 500)); // let an idle pooled sandbox settle before measuring it
      for (const l of pooled.logs) if (l.msg === 'pool.ready') idleIds.add(l.sandbox as string);
      for (const id of idleIds) {
        const m = sandboxMemoryMiB(id);
        if (m) idlePooled.push(m);
      }
    }
    const ms = await timeIt(() => createExecDelete(pooledClient, i >= 2 ? pooledSplit : undefined));
    if (i >= 2) pooledSamples.push(ms); // 2 warm-up rounds
  }
  series.push({ label: 'pocketenv, warm pool (SDK/HTTP)', samplesMs: pooledSamples });
  split.push({ label: 'pocketenv, warm pool (SDK/HTTP)', samplesMs: pooledSplit.createToExec });

  const coldClient = clientOf(cold);
  const coldSplit = { createToExec: [] as number[] };
  let n = 0;
  series.push({
    label: 'pocketenv, cold (SDK/HTTP)',
    samplesMs: await sample(iterations, () => createExecDelete(coldClient, n++ >= 2 ? coldSplit : undefined)),
  });
  split.push({ label: 'pocketenv, cold (SDK/HTTP)', samplesMs: coldSplit.createToExec });

  let podmanSamples: number[] = [];
  if (podmanAvailable()) {
    const env = podmanEnv();
    podmanSamples = await sample(iterations, () => podmanRun(env, rootfs, 'echo ready'));
  }
  series.push({ label: 'podman run --rm (runc)', samplesMs: podmanSamples });
  split.push({ label: 'podman run --rm (runc)', samplesMs: podmanSamples });
  const bare = await sample(iterations, () => bareUnshare('echo ready'));
  series.push({ label: 'bare unshare (floor)', samplesMs: bare });
  split.push({ label: 'bare unshare (floor)', samplesMs: bare });

  printTable(`create → start → exec \`echo ready\` → delete (${iterations} iterations each)`, series, 'pocketenv, warm pool (SDK/HTTP)');
  printTable(
    `create → first exec answered (same runs; delete excluded; podman/unshare: the whole run)`,
    split,
    'pocketenv, warm pool (SDK/HTTP)',
  );
  return { idlePooled };
}

async function execBench(server: BenchServer, rootfs: string): Promise<void> {
  const client = clientOf(server);
  const sb = await sandbox.create(sandbox.new(client, 'bench-exec', 'debian', 'local'));
  const series: Series[] = [];
  try {
    series.push({ label: 'pocketenv exec (SDK/HTTP, exec agent)', samplesMs: await sample(iterations, () => sandbox.exec(sb, 'echo ready')) });
    const pid = initPidOf(server, sb.data.id);
    series.push({
      label: 'crun exec (bare CLI; our fallback path)',
      samplesMs: await sample(iterations, async () => {
        await run('crun', ['--root', ociRootOf(server), 'exec', `pe-${sb.data.id}`, '/bin/sh', '-c', 'echo ready']);
      }),
    });
    const penv = podmanEnv();
    const pname = 'pe-bench-' + randomBytes(3).toString('hex');
    let podmanSamples: number[] = [];
    if (podmanAvailable()) {
      await podmanStartDetached(penv, rootfs, pname);
      try {
        podmanSamples = await sample(iterations, () => podmanExec(penv, pname, 'echo ready'));
      } finally {
        await podmanRemove(penv, pname);
      }
    }
    series.push({ label: 'podman exec', samplesMs: podmanSamples });
    series.push({ label: 'bare nsenter --all (floor; skips cgroup+seccomp)', samplesMs: await sample(iterations, () => bareNsenter(pid, 'echo ready')) });
  } finally {
    await sandbox.delete(sb);
  }
  printTable(`exec \`echo ready\` on a running sandbox (${iterations} iterations each)`, series, 'pocketenv exec (SDK/HTTP, exec agent)');
  const ours = percentile(series[0]!.samplesMs, 50);
  const floor = percentile(series[3]!.samplesMs, 50);
  console.log(`\nSDK exec p50 minus bare nsenter p50: ${(ours - floor).toFixed(1)} ms (target ≤ 3 ms)`);
}

async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function densityBench(server: BenchServer): Promise<void> {
  const client = clientOf(server);
  const rssBefore = server.rssMiB();
  const availBefore = memAvailableMiB();
  const sandboxes: Awaited<ReturnType<typeof sandbox.create>>[] = [];
  const t0 = Date.now();
  await pool(Array.from({ length: densityCount }, (_, i) => i), 4, async () => {
    sandboxes.push(await sandbox.create(sandbox.new(client, undefined, 'debian', 'local')));
  });
  const createSeconds = (Date.now() - t0) / 1000;
  try {
    await new Promise((r) => setTimeout(r, 3000)); // idle: let them settle
    const running = (await sandbox.list(client, 100, 0)).total;
    const mems = sandboxes.map((sb) => sandboxMemoryMiB(sb.data.id)).filter((m): m is { usage: number; rss: number } => !!m);
    const usage = mems.reduce((a, m) => a + m.usage, 0) / mems.length;
    const rss = mems.reduce((a, m) => a + m.rss, 0) / mems.length;
    const availDelta = (availBefore - memAvailableMiB()) / densityCount;
    const rssNow = server.rssMiB();

    // Throughput: `concurrentExecs` execs at once, spread over the sandboxes.
    const tExec = process.hrtime.bigint();
    let failed = 0;
    await Promise.all(
      Array.from({ length: concurrentExecs }, (_, i) =>
        sandbox.exec(sandboxes[i % sandboxes.length]!, 'echo ready').then(
          (r) => void (r.stdout !== 'ready\n' && failed++),
          () => void failed++,
        ),
      ),
    );
    const execSeconds = Number(process.hrtime.bigint() - tExec) / 1e9;
    const rssAfterExec = server.rssMiB();

    console.log(`\n### density: ${densityCount} idle sandboxes at once\n`);
    console.log('| what | value | target |');
    console.log('|---|---|---|');
    console.log(`| sandboxes running (server says) | ${running} | ${densityCount} |`);
    console.log(`| time to create all (4 concurrent creates) | ${createSeconds.toFixed(1)} s (${((createSeconds * 1000) / densityCount).toFixed(0)} ms each) | – |`);
    console.log(`| memory per idle sandbox, cgroup memory.usage_in_bytes (anon + page cache charged) | ${usage.toFixed(2)} MiB | ≤ 5 MiB |`);
    console.log(`| memory per idle sandbox, cgroup rss (anon only) | ${rss.toFixed(2)} MiB | – |`);
    console.log(`| memory per idle sandbox, host MemAvailable delta / ${densityCount} | ${availDelta.toFixed(2)} MiB | ≤ 5 MiB |`);
    console.log(`| server RSS: before → with ${densityCount} → after ${concurrentExecs} execs | ${rssBefore.toFixed(0)} → ${rssNow.toFixed(0)} → ${rssAfterExec.toFixed(0)} MiB | ≤ 150 MiB |`);
    console.log(`\n### throughput: ${concurrentExecs} concurrent execs \`echo ready\` over ${densityCount} sandboxes (SDK/HTTP)\n`);
    console.log('| what | value | target |');
    console.log('|---|---|---|');
    console.log(`| wall time | ${execSeconds.toFixed(2)} s | – |`);
    console.log(`| throughput | ${(concurrentExecs / execSeconds).toFixed(0)} exec/s | ≥ 300 exec/s |`);
    console.log(`| failed | ${failed} | 0 |`);
  } finally {
    await pool(sandboxes, 4, (sb) => sandbox.delete(sb).catch(() => undefined));
  }
}

async function main(): Promise<void> {
  const rootfs = await new BaseImages({ imageDir }).ensure('debian');
  console.log(`# pocketenv benchmark — ${new Date().toISOString()}, ${iterations} iterations, host: ${execFileSync('nproc').toString().trim()} cores, load ${execFileSync('cat', ['/proc/loadavg']).toString().split(' ').slice(0, 3).join(' ')}`);
  // Quotas and the exec rate limit are lifted: the density and throughput runs are over them by design.
  const limits = { POCKETENV_MAX_SANDBOXES: '100000', POCKETENV_MAX_RUNNING: '100000', POCKETENV_EXEC_RATE: '100000', POCKETENV_EXEC_BURST: '100000', POCKETENV_MAX_CONCURRENT_EXEC: '0' };
  const pooled = await BenchServer.start('pool', { ...limits, POCKETENV_POOL_SIZE: String(POOL_SIZE) });
  const cold = await BenchServer.start('cold', { ...limits, POCKETENV_POOL_SIZE: '0' });
  try {
    const { idlePooled } = await lifecycleBench(pooled, cold, rootfs);
    if (idlePooled.length) {
      const avg = (k: 'usage' | 'rss') => (idlePooled.reduce((a, m) => a + m[k], 0) / idlePooled.length).toFixed(2);
      console.log(`\nidle pooled sandbox (${idlePooled.length} measured): cgroup usage ${avg('usage')} MiB, anon rss ${avg('rss')} MiB`);
    }
    await pooled.stop();
    await execBench(cold, rootfs);
    if (densityCount > 0) await densityBench(cold);
  } finally {
    await pooled.stop().catch(() => undefined);
    await cold.stop().catch(() => undefined);
  }
}

await main();
