/**
 * Abuse suite: a hostile sandbox runs a fork bomb, a memory hog, CPU spinners on every core,
 * a disk filler and an exec flood. While each runs, a neighbour sandbox (another actor) and
 * the server keep answering — every neighbour exec and every describeServer must succeed —
 * and the abuser is contained by its own limits (pids, memory, CPU quota, tmpfs sizes, rate
 * limit, disk size). Prints the neighbour's and the server's p99 latency against the idle baseline
 * (figures only: nothing here asserts on time).
 *
 * Disk: the sandbox's writable layer is an ext4 image of its `disk` size (packages/runtime/
 * src/local/disk.ts), so a filler stops at that size; /dev and /dev/shm are 64 MiB tmpfs; and
 * everything a sandbox wrote is freed when it is deleted.
 */
import fs from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '@pocketenv/server/testing';
import { Api } from '../helpers';
import { FULL, figure, percentile } from './support';

const SAMPLES = FULL ? 60 : 15;
const FLOOD = FULL ? 500 : 150;

let server: TestServer;
let attacker: Api;
let neighbour: Api;
let neighbourId: string;
const lines: string[] = [];
let baseline: { exec: number; server: number };

beforeAll(async () => {
  server = await startTestServer({ log: false });
  attacker = new Api(server.url, server.ownerToken);
  neighbour = new Api(server.url, (await server.createActor('abuse-neighbour')).token);
  neighbourId = (await neighbour.create({})).id;
  const idle = await measure(SAMPLES);
  baseline = { exec: idle.execP99, server: idle.serverP99 };
  lines.push(`idle baseline: neighbour exec p99 ${baseline.exec.toFixed(0)} ms, server p99 ${baseline.server.toFixed(0)} ms`);
}, 300_000);

afterAll(async () => {
  await server?.close();
  figure('abuse', `\n  ${lines.join('\n  ')}`);
});

/**
 * `n` neighbour execs and `n` describeServer calls, one after the other; every one must succeed.
 * Returns p99 latencies in ms.
 */
async function measure(n: number): Promise<{ execP99: number; serverP99: number }> {
  const execMs: number[] = [];
  const serverMs: number[] = [];
  for (let i = 0; i < n; i++) {
    let t = performance.now();
    const r = await neighbour.procedure('io.pocketenv.sandbox.exec', { id: neighbourId }, { command: 'echo ok' });
    execMs.push(performance.now() - t);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.stdout).toBe('ok\n');
    t = performance.now();
    const d = await neighbour.query('io.pocketenv.server.describeServer');
    serverMs.push(performance.now() - t);
    expect(d.status).toBe(200);
  }
  return { execP99: percentile(execMs, 99), serverP99: percentile(serverMs, 99) };
}

function report(name: string, during: { execP99: number; serverP99: number }, contained: string): void {
  lines.push(
    `${name}: contained (${contained}); neighbour exec p99 ${during.execP99.toFixed(0)} ms (idle ${baseline.exec.toFixed(0)}), server p99 ${during.serverP99.toFixed(0)} ms (idle ${baseline.server.toFixed(0)})`,
  );
}

/** A host-side cgroup file of a sandbox (v1 hierarchy per controller, else v2). */
async function cgroupFile(controller: string, id: string, file: string): Promise<string> {
  for (const p of [`/sys/fs/cgroup/${controller}/pocketenv/${id}/${file}`, `/sys/fs/cgroup/pocketenv/${id}/${file}`]) {
    const text = await fs.readFile(p, 'utf8').catch(() => undefined);
    if (text !== undefined) return text;
  }
  throw new Error(`no cgroup file ${controller}/${file} for ${id}`);
}

async function withAttacker<T>(fn: (id: string) => Promise<T>): Promise<T> {
  const id = (await attacker.create({})).id as string;
  try {
    return await fn(id);
  } finally {
    await attacker.delete(id);
  }
}

it('fork bomb: stopped at the pids limit, neighbour and server keep answering', async () => {
  await withAttacker(async (id) => {
    await attacker.exec(id, `setsid -f sh -c 'b(){ b|b& }; b' >/dev/null 2>&1 </dev/null; sleep 2`);
    const during = await measure(SAMPLES);
    const max = Number((await cgroupFile('pids', id, 'pids.max')).trim());
    const current = Number((await cgroupFile('pids', id, 'pids.current')).trim());
    const events = await cgroupFile('pids', id, 'pids.events');
    expect(current).toBeLessThanOrEqual(max);
    expect(Number(/max (\d+)/.exec(events)![1])).toBeGreaterThan(0);
    report('fork bomb', during, `pids ${current}/${max}, fork refused ${/max (\d+)/.exec(events)![1]} times`);
  });
});

it('memory hog: OOM-killed at its memory limit, neighbour and server keep answering', async () => {
  await withAttacker(async (id) => {
    const limit = Number((await cgroupFile('memory', id, 'memory.limit_in_bytes').catch(() => cgroupFile('memory', id, 'memory.max'))).trim());
    const hog = attacker.exec(id, `python3 -c "x = b'\\x01' * ${Math.round((limit * 1.5) / 1024 / 1024)} * 1024 * 1024; print('survived')"; echo "rc=$?"`, { timeoutMs: 120_000 });
    const during = await measure(SAMPLES);
    const r = await hog;
    expect(r.stdout).not.toContain('survived');
    expect(r.stdout).toMatch(/rc=(137|1)\b/);
    report('memory hog', during, `allocating 1.5× its ${(limit / 2 ** 30).toFixed(1)} GiB limit ended with ${/rc=\d+/.exec(r.stdout)![0]}`);
  });
});

it('CPU spinners on every core: throttled to its vCPU quota, neighbour and server keep answering', async () => {
  await withAttacker(async (id) => {
    await attacker.exec(id, `for i in $(seq $(nproc)); do setsid -f sh -c 'while :; do :; done' >/dev/null 2>&1 </dev/null; done; sleep 1`);
    const during = await measure(SAMPLES);
    const stat = await cgroupFile('cpu', id, 'cpu.stat');
    const throttled = Number(/nr_throttled (\d+)/.exec(stat)?.[1] ?? 0);
    // The quota is what bounds it; whether it was reached depends on how busy the host is
    // (on a loaded CI host the spinners may get less than their quota), so it is a figure.
    const vcpus = (await attacker.get(id)).vcpus as number;
    const quota = Number((await cgroupFile('cpu', id, 'cpu.cfs_quota_us').catch(() => cgroupFile('cpu', id, 'cpu.max'))).trim().split(' ')[0]);
    expect(quota).toBe(vcpus * 100_000);
    const spinning = await attacker.exec(id, "ps -eo stat,args | grep -c '^R.*while'");
    expect(Number(spinning.stdout.trim())).toBeGreaterThanOrEqual(1);
    report('CPU spinners', during, `quota ${vcpus} vCPU (${quota} µs per 100 ms), throttled in ${throttled} periods`);
  });
});

it('disk filler: stopped at its disk size ("No space left"), /dev/shm bounded, neighbour keeps answering, all freed on delete', async () => {
  let freedDir = '';
  await withAttacker(async (id) => {
    const shm = await attacker.exec(id, 'dd if=/dev/zero of=/dev/shm/fill bs=1M count=200 2>&1 | tail -1; du -sm /dev/shm | cut -f1', { timeoutMs: 60_000 });
    const shmMb = Number(shm.stdout.trim().split('\n').pop());
    expect(shmMb).toBeLessThanOrEqual(64);
    const diskGiB = (await attacker.get(id)).disk as number;
    // Asks for more than the whole disk.
    const fill = attacker.exec(id, `dd if=/dev/zero of=/workspace/fill bs=1M count=${(diskGiB + 1) * 1024} 2>&1 | head -1; df -m --output=size,avail / | tail -1`, { timeoutMs: 300_000 });
    const during = await measure(SAMPLES);
    const out = (await fill).stdout;
    expect(out).toMatch(/No space left on device/);
    const [sizeMb, availMb] = out.trim().split('\n').pop()!.trim().split(/\s+/).map(Number);
    expect(sizeMb).toBeLessThanOrEqual(diskGiB * 1024);
    expect(availMb).toBeLessThan(64);
    freedDir = `${server.dataDir}/runtime/local/sandboxes/${id}`;
    const imageMb = Number((await run('du', ['-sm', `${freedDir}/disk.img`])).split('\t')[0]);
    expect(imageMb).toBeLessThanOrEqual(diskGiB * 1024);
    report('disk filler', during, `/dev/shm capped at ${shmMb} MiB; /workspace filled its ${diskGiB} GiB disk (df ${sizeMb} MiB, ${availMb} MiB left), then "No space left on device"; host image ${imageMb} MiB, freed on delete`);
  });
  await expect(fs.stat(freedDir)).rejects.toThrow();
});

it('exec flood: answered (200) or throttled (429), never failed; neighbour and server keep answering', async () => {
  await withAttacker(async (id) => {
    const flood = Promise.all(Array.from({ length: FLOOD }, () => attacker.procedure('io.pocketenv.sandbox.exec', { id }, { command: 'true' })));
    const during = await measure(SAMPLES);
    const statuses = (await flood).map((r) => r.status);
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    report('exec flood', during, `${FLOOD} concurrent execs: ${statuses.filter((s) => s === 200).length} answered, ${statuses.filter((s) => s === 429).length} throttled`);
  });
});

function run(file: string, args: string[]): Promise<string> {
  return import('node:child_process').then(
    ({ execFile }) => new Promise((resolve, reject) => execFile(file, args, (err, out) => (err ? reject(err) : resolve(String(out))))),
  );
}
