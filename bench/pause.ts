/**
 * Pause, resume and fork, through the SDK over HTTP (part of bench/run.ts; also runs alone):
 *   - pause and resume latency;
 *   - first exec after an auto-resume vs an exec on a running sandbox;
 *   - CPU used by N paused vs N idle running sandboxes (their cgroups' cpuacct, over a window);
 *   - fork time vs the size written in the source (sparse copy of its disk image).
 *
 * Run alone (as root, after `pocketenv setup`): npx tsx bench/pause.ts [--iterations 30] [--paused 50]
 * Prints Markdown; asserts nothing. Traffic: loopback only.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { pocketenv, sandbox, type ConnectedSandbox } from '@pocketenv/sdk';
import { BenchServer } from './lib/server';
import { printTable, sample, timeIt } from './lib/stats';

type Client = ReturnType<typeof pocketenv.newClient>;

/** CPU time (ms) the sandbox's processes used so far (cgroup v1 cpuacct or v2 cpu.stat). */
function cpuMs(id: string): number {
  try {
    return Number(readFileSync(`/sys/fs/cgroup/cpuacct/pocketenv/${id}/cpuacct.usage`, 'utf8').trim()) / 1e6;
  } catch {
    const stat = readFileSync(`/sys/fs/cgroup/pocketenv/${id}/cpu.stat`, 'utf8');
    return Number(/usage_usec (\d+)/.exec(stat)![1]) / 1e3;
  }
}

async function cpuOver(sandboxes: ConnectedSandbox[], windowMs: number): Promise<number> {
  const before = sandboxes.map((sb) => cpuMs(sb.data.id));
  await new Promise((r) => setTimeout(r, windowMs));
  return sandboxes.reduce((sum, sb, i) => sum + (cpuMs(sb.data.id) - before[i]!), 0);
}

async function newSandbox(client: Client, name?: string): Promise<ConnectedSandbox> {
  return sandbox.create(sandbox.new(client, name, 'debian', 'local'));
}

export async function pauseForkBench(client: Client, opts: { iterations: number; paused: number }): Promise<void> {
  const sb = await newSandbox(client, 'bench-pause');
  try {
    const pauseMs: number[] = [];
    const resumeMs: number[] = [];
    const autoResumeExecMs: number[] = [];
    for (let i = 0; i < opts.iterations; i++) {
      pauseMs.push(await timeIt(() => sandbox.pause(sb)));
      resumeMs.push(await timeIt(() => sandbox.resume(sb)));
      await sandbox.pause(sb);
      autoResumeExecMs.push(await timeIt(() => sandbox.exec(sb, 'echo ready')));
    }
    const runningExecMs = await sample(opts.iterations, () => sandbox.exec(sb, 'echo ready'));
    printTable(
      'pause / resume (SDK over HTTP)',
      [
        { label: 'exec `echo ready` on a running sandbox', samplesMs: runningExecMs },
        { label: 'exec `echo ready` on a paused sandbox (auto-resume)', samplesMs: autoResumeExecMs },
        { label: 'pauseSandbox', samplesMs: pauseMs },
        { label: 'resumeSandbox', samplesMs: resumeMs },
      ],
      'exec `echo ready` on a running sandbox',
    );

    console.log('\n### fork time vs size written in the source (source running)\n');
    console.log('| written | fork (copy + start) ms | first exec in the fork ms |');
    console.log('|---|---|---|');
    let written = 0;
    for (const mib of [0, 100, 300]) {
      if (mib > written) await sandbox.exec(sb, `head -c ${(mib - written) * 1024 * 1024} /dev/urandom >> /root/fill`);
      written = mib;
      let copy: ConnectedSandbox | undefined;
      const forkMs = await timeIt(async () => (copy = sandbox.connect(await sandbox.fork(sb), client)));
      const execMs = await timeIt(() => sandbox.exec(copy!, 'echo ready'));
      console.log(`| ${mib} MiB | ${forkMs.toFixed(0)} | ${execMs.toFixed(1)} |`);
      await sandbox.delete(copy!);
    }
  } finally {
    await sandbox.delete(sb).catch(() => undefined);
  }

  const many: ConnectedSandbox[] = [];
  try {
    for (let i = 0; i < opts.paused; i++) many.push(await newSandbox(client));
    const windowMs = 10_000;
    await new Promise((r) => setTimeout(r, 2000)); // let the boots settle
    const idleCpu = await cpuOver(many, windowMs);
    for (const s of many) await sandbox.pause(s);
    const pausedCpu = await cpuOver(many, windowMs);
    console.log(`\n### CPU used by ${opts.paused} sandboxes over ${windowMs / 1000} s\n`);
    console.log('| state | CPU ms (sum of their cgroups) |');
    console.log('|---|---|');
    console.log(`| idle, running | ${idleCpu.toFixed(1)} |`);
    console.log(`| paused | ${pausedCpu.toFixed(1)} |`);
  } finally {
    for (const s of many) await sandbox.delete(s).catch(() => undefined);
  }
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const limits = { POCKETENV_MAX_SANDBOXES: '100000', POCKETENV_MAX_RUNNING: '100000', POCKETENV_EXEC_RATE: '100000', POCKETENV_EXEC_BURST: '100000', POCKETENV_POOL_SIZE: '0' };
  const server = await BenchServer.start('pause', limits);
  try {
    console.log(`# pocketenv pause/fork benchmark — ${new Date().toISOString()}, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
    await pauseForkBench(pocketenv.newClient(server.token, { baseUrl: server.url }), { iterations: arg('iterations', 30), paused: arg('paused', 50) });
  } finally {
    await server.stop();
  }
}
