/**
 * CLI start-up cost: CPU (user + sys) and wall time of `pocketenv --version`, `--help` and `ls`
 * (against a started server), next to a bare `node -e 0` (the floor any Node CLI pays) and
 * `docker --version` / `podman --version` when installed (the peers). Also the server's RSS with
 * no sandboxes, and the cost of the `./pocketenv` wrapper (its "installed? built?" checks).
 *
 * Run (after ./pocketenv or `bash scripts/build.sh`):  npx tsx bench/cli-startup.ts [--runs 30]
 *
 * CPU comes from the kernel's accounting of finished children (bash's `times` after N runs, so
 * short processes are measured exactly, not sampled); wall is the median of N single runs.
 * Prints a Markdown table and asserts nothing; numbers depend on machine load (printed).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { BenchServer } from './lib/server';

const REPO = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const BIN = join(REPO, 'packages/cli/bin/pocketenv.js');
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1] || 30) || 30;

interface Row {
  label: string;
  argv: string[];
  env?: Record<string, string>;
}

function which(cmd: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/** Mean CPU ms per run (children's user+sys from bash's `times`, over `n` runs). */
function cpuPerRun(row: Row, n: number): number {
  const script = 'for i in $(seq "$N"); do "$@" >/dev/null 2>&1; done; times';
  const out = execFileSync('bash', ['-c', script, 'bench', ...row.argv], { env: { ...process.env, ...row.env, N: String(n) }, encoding: 'utf8' });
  // `times` prints the shell's own times, then its children's: "0m0.123s 0m0.045s".
  const children = out.trim().split('\n').pop()!;
  const [user, sys] = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return ((user! + sys!) * 1000) / n;
}

/** Median wall ms of `n` single runs. */
function wallMedian(row: Row, n: number): number {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = process.hrtime.bigint();
    const result = spawnSync(row.argv[0]!, row.argv.slice(1), { env: { ...process.env, ...row.env }, stdio: 'ignore' });
    if (result.status !== 0) throw new Error(`${row.label} exited ${result.status}`);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

async function main(): Promise<void> {
  if (!existsSync(join(REPO, 'packages/cli/dist/index.js'))) throw new Error('the CLI is not built: run ./pocketenv --version or bash scripts/build.sh first');
  console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${runs} runs per row\n`);
  const server = await BenchServer.start('cli', { POCKETENV_POOL_SIZE: '0', POCKETENV_PREBUILD: 'none' });
  try {
    const serverEnv = { POCKETENV_API_URL: server.url, POCKETENV_TOKEN: server.token };
    const rows: Row[] = [
      { label: '`node -e 0` (floor)', argv: [process.execPath, '-e', '0'] },
      { label: '`pocketenv --version`', argv: [BIN, '--version'] },
      { label: '`pocketenv --help`', argv: [BIN, '--help'] },
      { label: '`pocketenv ls` (0 sandboxes)', argv: [BIN, 'ls'], env: serverEnv },
      { label: '`./pocketenv ls` (with its checks)', argv: [join(REPO, 'pocketenv'), 'ls'], env: serverEnv },
    ];
    for (const peer of ['docker', 'podman']) {
      const path = which(peer);
      if (path) rows.push({ label: `\`${peer} --version\``, argv: [path, '--version'] });
    }
    const measured = rows.map((row) => {
      wallMedian(row, 2); // warm the page cache
      return { row, cpu: cpuPerRun(row, runs), wall: wallMedian(row, runs) };
    });
    const floor = measured[0]!.cpu;
    const peer = measured.find((m) => /docker|podman/.test(m.row.label));
    console.log(`| command | CPU (user+sys) | wall (median) | CPU − node floor |${peer ? ` CPU ÷ ${peer.row.label} |` : ''}`);
    console.log(`|---|---|---|---|${peer ? '---|' : ''}`);
    for (const m of measured) {
      const overFloor = m === measured[0] || m === peer ? '–' : `${(m.cpu - floor).toFixed(0)} ms`;
      const ratio = peer ? ` ${(m.cpu / peer.cpu).toFixed(1)}× |` : '';
      console.log(`| ${m.row.label} | ${m.cpu.toFixed(0)} ms | ${m.wall.toFixed(0)} ms | ${overFloor} |${ratio}`);
    }
    const status = readFileSync(`/proc/${server.proc.pid}/status`, 'utf8');
    console.log(`\nserver RSS with no sandboxes (after ${runs * 3} requests): ${server.rssMiB().toFixed(0)} MiB (VmHWM ${(Number(/VmHWM:\s+(\d+)/.exec(status)![1]) / 1024).toFixed(0)} MiB)`);
  } finally {
    await server.stop();
  }
}

await main();
