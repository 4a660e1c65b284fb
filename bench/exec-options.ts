/**
 * The fast-exec options, measured side by side on one running sandbox (provider level, no HTTP):
 *   - provider.exec through the in-sandbox exec agent (what we ship),
 *   - provider.exec through `crun exec` (the fallback; execAgent: false, in a child process),
 *   - one raw agent round trip (no provider bookkeeping),
 *   - bare `crun exec` and bare `nsenter --all` CLIs (nsenter skips cgroup and seccomp: unsafe).
 *
 * Run: npx tsx bench/exec-options.ts [iterations=50]
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { printTable, sample, type Series } from './lib/stats';

const run = promisify(execFile);
const iterations = Number(process.argv[2] ?? 50);
const childMode = process.env.BENCH_EXEC_OPTIONS_CHILD === '1'; // measuring the fallback

const { LocalProvider } = await import('../packages/runtime/src/local/index');
const { execViaAgent } = await import('../packages/runtime/src/local/agent/client');

if (childMode) {
  // Its own state dir and sandbox: a state dir has one driver process at a time.
  const dir = mkdtempSync(join(tmpdir(), 'pe-bench-exec-'));
  const provider = new LocalProvider({ stateDir: dir, execAgent: false });
  const id = 'benchexecfb' + Date.now().toString(36);
  try {
    await provider.create({ id, hostname: id, base: 'debian', resources: { vcpus: 1, memoryGiB: 1, diskGiB: 3, pids: 512 } });
    await provider.start(id);
    process.stdout.write(JSON.stringify(await sample(iterations, () => provider.exec(id, 'echo ready'))));
  } finally {
    await provider.delete(id).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}

const stateDir = mkdtempSync(join(tmpdir(), 'pe-bench-exec-'));
const provider = new LocalProvider({ stateDir });
const id = 'benchexec' + Date.now().toString(36);
try {
  await provider.create({ id, hostname: id, base: 'debian', resources: { vcpus: 1, memoryGiB: 1, diskGiB: 3, pids: 512 } });
  await provider.start(id);
  const ociRoot = join(stateDir, 'oci');
  const pid = (JSON.parse(execFileSync('crun', ['--root', ociRoot, 'state', `pe-${id}`]).toString()) as { pid: number }).pid;
  const series: Series[] = [];
  series.push({ label: 'provider.exec, exec agent', samplesMs: await sample(iterations, () => provider.exec(id, 'echo ready')) });
  const proc = { terminal: false, user: { uid: 0, gid: 0 }, args: ['/bin/sh', '-c', 'echo ready'], env: ['PATH=/usr/bin:/bin'], cwd: '/' };
  series.push({
    label: 'raw agent round trip',
    samplesMs: await sample(iterations, async () => {
      const a = await execViaAgent(`/run/pocketenv/agent/${id}/agent.sock`, proc as never, { signal: new AbortController().signal, startTimeoutMs: 30_000 });
      if (typeof a === 'string') throw new Error(`the exec agent of ${id} is ${a}`);
      a.stdout.resume();
      a.stderr.resume();
      a.stdin.end();
      await a.exited;
    }),
  });
  // The provider in this process has the agent on; the fallback runs in a child with it off.
  const child = await run(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, String(iterations)], {
    env: { ...process.env, BENCH_EXEC_OPTIONS_CHILD: '1' },
  }).catch((err: Error) => ({ stdout: '[]', stderr: err.message }));
  series.push({ label: 'provider.exec, crun exec (fallback)', samplesMs: JSON.parse(child.stdout || '[]') as number[] });
  series.push({ label: 'bare crun exec CLI', samplesMs: await sample(iterations, () => run('crun', ['--root', ociRoot, 'exec', `pe-${id}`, '/bin/sh', '-c', 'echo ready'])) });
  series.push({ label: 'bare nsenter --all (unsafe floor)', samplesMs: await sample(iterations, () => run('nsenter', ['-t', String(pid), '--all', '--root', '--wd=/', 'sh', '-c', 'echo ready'])) });
  printTable(`exec options, \`echo ready\` (${iterations} iterations; load ${execFileSync('cat', ['/proc/loadavg']).toString().split(' ').slice(0, 3).join(' ')})`, series, 'provider.exec, exec agent');
} finally {
  await provider.delete(id).catch(() => undefined);
  rmSync(stateDir, { recursive: true, force: true });
}
