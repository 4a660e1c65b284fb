/**
 * Pocketenv against its peers, in ONE run on ONE machine (everything side by side):
 *
 *   1. create → start → exec `echo ready` → delete, through the SDK over HTTP:
 *      ours with the warm pool, ours cold, ours on the docker provider (when a Docker Engine
 *      answers), `podman run --rm` (runc) of the same base rootfs,
 *      and a bare `unshare` of the same namespaces (the floor: no rootfs, cgroup or network).
 *   2. exec `echo ready` on a running sandbox: SDK over HTTP (local, and docker provider) vs
 *      `crun exec` (our fallback path, bare) vs `podman exec` vs a bare `nsenter` (the floor;
 *      unsafe, skips cgroup/seccomp).
 *   3. density: N idle sandboxes at once (memory per sandbox from its cgroup and from the
 *      host's MemAvailable, server RSS), then M concurrent execs across them (throughput).
 *   4. pause/resume, auto-resume, paused vs idle CPU, fork time vs size written (./pause.ts).
 *
 * Run (as root, after `pocketenv setup`):  npx tsx bench/run.ts [--iterations 30] [--density 200] [--concurrent 500]
 * Prints Markdown; asserts nothing. podman or Docker missing → "not measured". Traffic: loopback only.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { pocketenv, sandbox } from '@pocketenv/sdk';
import { BaseImages } from '../packages/runtime/src/local/images/index';
import { memAvailableMiB, sandboxMemoryMiB } from './lib/memory';
import { bareNsenter, bareUnshare, podmanAvailable, podmanEnv, podmanExec, podmanRemove, podmanRun, podmanStartDetached } from './lib/peers';
import { burstBench, throughputBench } from './lib/burst-throughput';
import { BenchServer } from './lib/server';
import { pauseForkBench } from './pause';
import { percentile, printTable, sample, timeIt, type Series } from './lib/stats';

const run = promisify(execFile);

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const iterations = arg('iterations', 30);
const densityCount = arg('density', 200);
const concurrentExecs = arg('concurrent', 500);
const burstCount = arg('burst', 20);
const throughputSandboxes = arg('throughput-sandboxes', 8);
const POOL_SIZE = 2;

const imageDir = process.env.POCKETENV_IMAGE_DIR ?? '/var/cache/pocketenv/images';

function clientOf(server: BenchServer) {
  return pocketenv.newClient(server.token, { baseUrl: server.url });
}

type Client = ReturnType<typeof clientOf>;

/** Whether the server has the docker provider and its engine answers (POCKETENV_DOCKER=auto). */
async function dockerAvailable(server: BenchServer): Promise<boolean> {
  const res = await fetch(`${server.url}/xrpc/io.pocketenv.server.describeServer`);
  const body = (await res.json()) as { providers: { name: string; available: boolean }[] };
  return body.providers.some((p) => p.name === 'docker' && p.available);
}

async function createExecDelete(client: Client, split?: { createToExec: number[] }, provider = 'local'): Promise<void> {
  const t0 = process.hrtime.bigint();
  const sb = await sandbox.create(sandbox.new(client, undefined, 'debian', provider));
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

async function lifecycleBench(pooled: BenchServer, cold: BenchServer, rootfs: string): Promise<{ idlePooled: { usage: number; rss: number }[]; unshareP50: number }> {
  const series: Series[] = [];
  const split: Series[] = [];

  // With the pool: each iteration starts when the pool holds its resting size again (it grows with demand) (time to first command
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
    const full = lastIndex((l) => l.msg === 'pool.ready' && (l.idle as number) >= POOL_SIZE);
    const taken = lastIndex((l) => l.msg === 'sandbox.transition' && l.pooled === true);
    if (full > taken && full >= 0) return;
    await pooled.next((l) => l.msg === 'pool.ready' && (l.idle as number) >= POOL_SIZE);
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

  // The docker provider on the same server (its first create imports the base image: warm-ups absorb it).
  const dockerSplit = { createToExec: [] as number[] };
  let dockerSamples: number[] = [];
  if (await dockerAvailable(cold)) {
    let k = 0;
    dockerSamples = await sample(iterations, () => createExecDelete(coldClient, k++ >= 2 ? dockerSplit : undefined, 'docker'));
  }
  series.push({ label: 'pocketenv, docker provider (SDK/HTTP)', samplesMs: dockerSamples });
  split.push({ label: 'pocketenv, docker provider (SDK/HTTP)', samplesMs: dockerSplit.createToExec });

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
  const warmToExec = percentile(pooledSplit.createToExec, 50);
  console.log(`\nwarm-pool create → first exec p50 / bare unshare p50: ${(warmToExec / percentile(bare, 50)).toFixed(2)}× (target ≤ 3×)`);
  return { idlePooled, unshareP50: percentile(bare, 50) };
}

async function execBench(server: BenchServer, rootfs: string): Promise<void> {
  const client = clientOf(server);
  const sb = await sandbox.create(sandbox.new(client, 'bench-exec', 'debian', 'local'));
  const series: Series[] = [];
  try {
    const pid = initPidOf(server, sb.data.id);
    // Ours and the floor alternate, sample by sample, so a change of load hits both alike (the ratio is the target).
    const [ours, floor] = await sampleAlternating(iterations, () => sandbox.exec(sb, 'echo ready'), () => bareNsenter(pid, 'echo ready'));
    series.push({ label: 'pocketenv exec (SDK/HTTP, exec agent)', samplesMs: ours });
    series.push({
      label: 'crun exec (bare CLI; our fallback path)',
      samplesMs: await sample(iterations, async () => {
        await run('crun', ['--root', ociRootOf(server), 'exec', `pe-${sb.data.id}`, '/bin/sh', '-c', 'echo ready']);
      }),
    });
    let dockerSamples: number[] = [];
    if (await dockerAvailable(server)) {
      const dsb = await sandbox.create(sandbox.new(client, 'bench-exec-docker', 'debian', 'docker'));
      try {
        dockerSamples = await sample(iterations, () => sandbox.exec(dsb, 'echo ready'));
      } finally {
        await sandbox.delete(dsb);
      }
    }
    series.push({ label: 'pocketenv exec, docker provider (SDK/HTTP, Engine exec API)', samplesMs: dockerSamples });
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
    series.push({ label: 'bare nsenter --all (floor; skips cgroup+seccomp)', samplesMs: floor });
  } finally {
    await sandbox.delete(sb);
  }
  printTable(`exec \`echo ready\` on a running sandbox (${iterations} iterations each)`, series, 'pocketenv exec (SDK/HTTP, exec agent)');
  const ours = percentile(series[0]!.samplesMs, 50);
  const floor = percentile(series.find((x) => x.label.startsWith('bare nsenter'))!.samplesMs, 50);
  console.log(`\nSDK exec p50 minus bare nsenter p50: ${(ours - floor).toFixed(1)} ms; ratio ${(ours / floor).toFixed(2)}× (target ≤ 1.3×)`);
}

/** Two series sampled in alternation (after 2 warm-up rounds each). */
async function sampleAlternating(n: number, a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<[number[], number[]]> {
  for (let i = 0; i < 2; i++) {
    await a();
    await b();
  }
  const as: number[] = [];
  const bs: number[] = [];
  for (let i = 0; i < n; i++) {
    as.push(await timeIt(a));
    bs.push(await timeIt(b));
  }
  return [as, bs];
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
    const { idlePooled, unshareP50 } = await lifecycleBench(pooled, cold, rootfs);

    if (idlePooled.length) {
      const avg = (k: 'usage' | 'rss') => (idlePooled.reduce((a, m) => a + m[k], 0) / idlePooled.length).toFixed(2);
      console.log(`\nidle pooled sandbox (${idlePooled.length} measured): cgroup usage ${avg('usage')} MiB, anon rss ${avg('rss')} MiB`);
    }
    await pooled.stop();
    if (burstCount > 0) {
      // Its own server, so the burst meets the pool at its resting size (the runs above grew it).
      const bursty = await BenchServer.start('burst', { ...limits, POCKETENV_POOL_SIZE: String(POOL_SIZE) });
      try {
        await bursty.next((l) => l.msg === 'pool.ready' && (l.idle as number) >= POOL_SIZE);
        await burstBench(bursty, burstCount, unshareP50);
      } finally {
        await bursty.stop();
      }
    }
    await execBench(cold, rootfs);
    if (concurrentExecs > 0 && throughputSandboxes > 0) await throughputBench(cold, throughputSandboxes, concurrentExecs);
    if (densityCount > 0) await densityBench(cold);
    await pauseForkBench(clientOf(cold), { iterations, paused: arg('paused', 50) });
  } finally {
    await pooled.stop().catch(() => undefined);
    await cold.stop().catch(() => undefined);
  }
}

await main();
