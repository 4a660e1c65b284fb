/**
 * Two ratios the issue asks for, measured in the run that prints them:
 *   - a burst of back-to-back creates against a warm pool: create → first exec per create,
 *     and how many were served from the pool (the server logs `pooled` per create);
 *   - concurrent exec throughput through the server against the provider's own (a
 *     LocalProvider in this process, same number of sandboxes, same concurrency).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pocketenv, sandbox } from '@pocketenv/sdk';
import { LocalProvider } from '../../packages/runtime/src/local/index';
import type { BenchServer } from './server';
import { percentile } from './stats';

type Client = ReturnType<typeof pocketenv.newClient>;
type Created = Awaited<ReturnType<typeof sandbox.create>>;

async function createToFirstExec(client: Client): Promise<{ ms: number; sb: Created }> {
  const t0 = process.hrtime.bigint();
  const sb = await sandbox.create(sandbox.new(client, undefined, 'debian', 'local'));
  await sandbox.start(sb);
  const r = await sandbox.exec(sb, 'echo ready');
  if (r.stdout !== 'ready\n') throw new Error(`unexpected output ${JSON.stringify(r)}`);
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, sb };
}

/** One burst of `count` creates, one after another as fast as the caller can (each waits for its first exec). */
async function burst(server: BenchServer, client: Client, count: number): Promise<{ samples: number[]; warm: number; created: Created[] }> {
  const samples: number[] = [];
  const created: Created[] = [];
  for (let i = 0; i < count; i++) {
    const { ms, sb } = await createToFirstExec(client);
    samples.push(ms);
    created.push(sb);
  }
  const pooled = new Set(server.logs.filter((l) => l.msg === 'sandbox.transition' && l.pooled === true).map((l) => l.sandbox as string));
  return { samples, warm: created.filter((sb) => pooled.has(sb.data.id)).length, created };
}

/**
 * Two bursts: the first meets the pool at its resting size, the second comes once the pool
 * has refilled to what the first burst asked for (the adaptive size).
 */
export async function burstBench(server: BenchServer, count: number, floorP50: number): Promise<void> {
  const client = pocketenv.newClient(server.token, { baseUrl: server.url });
  const rows: string[] = [];
  const all: Created[] = [];
  try {
    for (const label of ['first burst (pool at its resting size)', 'second burst (after the pool refilled)']) {
      const { samples, warm, created } = await burst(server, client, count);
      all.push(...created);
      const p50 = percentile(samples, 50);
      rows.push(`| ${label} | ${count} | ${warm}/${count} | ${p50.toFixed(1)} | ${percentile(samples, 99).toFixed(1)} | ${(p50 / floorP50).toFixed(2)}× |`);
      // Let the pool refill to its grown target before the next burst.
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        const last = [...server.logs].reverse().find((l) => l.msg === 'pool.ready');
        if (last && typeof last.target === 'number' && last.idle === last.target) break;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } finally {
    for (const sb of all) await sandbox.delete(sb).catch(() => undefined);
  }
  console.log(`\n### burst: ${count} back-to-back creates → first exec (warm pool, adaptive size)\n`);
  console.log('| burst | creates | served warm | p50 ms | p99 ms | p50 ratio vs bare unshare |');
  console.log('|---|---|---|---|---|---|');
  rows.forEach((r) => console.log(r));
}

async function execsPerSecond(total: number, targets: number, exec: (i: number) => Promise<void>): Promise<{ perSecond: number; failed: number }> {
  let failed = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: total }, (_, i) => exec(i % targets).catch(() => void failed++)));
  return { perSecond: total / (Number(process.hrtime.bigint() - t0) / 1e9), failed };
}

/** `total` concurrent `echo ready` over `count` sandboxes: through the server, then the provider alone. */
export async function throughputBench(server: BenchServer, count: number, total: number): Promise<void> {
  const client = pocketenv.newClient(server.token, { baseUrl: server.url });
  const sbs: Created[] = [];
  for (let i = 0; i < count; i++) sbs.push(await sandbox.create(sandbox.new(client, undefined, 'debian', 'local')));
  const stateDir = mkdtempSync(join(tmpdir(), 'pe-bench-provider-'));
  const provider = new LocalProvider({ stateDir });
  const ids = Array.from({ length: count }, (_, i) => `benchtp${i}${Date.now().toString(36)}`);
  const resources = { vcpus: 1, memoryGiB: 1, diskGiB: 3, pids: 512 };
  try {
    for (const id of ids) {
      await provider.create({ id, hostname: id, base: 'debian', resources });
      await provider.start(id);
    }
    const viaServer = async (i: number) => {
      const r = await sandbox.exec(sbs[i]!, 'echo ready');
      if (r.stdout !== 'ready\n') throw new Error('bad output');
    };
    const viaProvider = async (i: number) => {
      const r = await provider.exec(ids[i]!, 'echo ready');
      if (r.stdout.toString() !== 'ready\n') throw new Error('bad output');
    };
    // Alternated, twice each, so load changes during the run hit both alike; the best of each counts.
    const server1 = await execsPerSecond(total, count, viaServer);
    const provider1 = await execsPerSecond(total, count, viaProvider);
    const server2 = await execsPerSecond(total, count, viaServer);
    const provider2 = await execsPerSecond(total, count, viaProvider);
    const s = Math.max(server1.perSecond, server2.perSecond);
    const p = Math.max(provider1.perSecond, provider2.perSecond);
    console.log(`\n### exec throughput: ${total} concurrent \`echo ready\` over ${count} sandboxes (best of 2 alternating rounds)\n`);
    console.log('| path | exec/s (round 1, round 2) | failed | ratio vs provider |');
    console.log('|---|---|---|---|');
    console.log(`| server (SDK over HTTP) | ${s.toFixed(0)} (${server1.perSecond.toFixed(0)}, ${server2.perSecond.toFixed(0)}) | ${server1.failed + server2.failed} | ${((s / p) * 100).toFixed(0)} % (target ≥ 80 %) |`);
    console.log(`| provider alone (LocalProvider in the bench process) | ${p.toFixed(0)} (${provider1.perSecond.toFixed(0)}, ${provider2.perSecond.toFixed(0)}) | ${provider1.failed + provider2.failed} | 100 % |`);
  } finally {
    for (const id of ids) await provider.delete(id).catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
    for (const sb of sbs) await sandbox.delete(sb).catch(() => undefined);
  }
}
