/**
 * Benchmark of the local provider against its peers, in one run on one machine:
 *   1. create → start → first exec `echo ready` → delete
 *   2. exec `echo ready` on a running sandbox
 * Peers: a bare `unshare` spawn (the floor, no rootfs/cgroup/network) and `podman` (runc)
 * on the same base rootfs. Prints p50/p99 and ratios; asserts nothing.
 *
 * Run: npx tsx bench/runtime.ts [iterations=30]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalProvider } from '@pocketenv/runtime';
import { BaseImages } from '../packages/runtime/src/local/images/index';
import { bareNsenter, bareUnshare, podmanAvailable, podmanEnv, podmanExec, podmanRemove, podmanRun, podmanStartDetached } from './lib/peers';
import { printTable, sample, type Series } from './lib/stats';

const iterations = Number(process.argv[2] ?? 30);
const imageDir = process.env.POCKETENV_IMAGE_DIR ?? '/var/cache/pocketenv/images';
const resources = { vcpus: 1, memoryGiB: 1, diskGiB: 3, pids: 512 };

async function main(): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), 'pe-bench-'));
  const provider = new LocalProvider({ stateDir, imageDir });
  const rootfs = await new BaseImages({ imageDir }).ensure('debian');
  const newId = () => 'bench' + randomBytes(5).toString('hex');

  try {
    const lifecycle: Series[] = [];
    lifecycle.push({
      label: 'pocketenv local (cold)',
      samplesMs: await sample(iterations, async () => {
        const id = newId();
        await provider.create({ id, hostname: id, base: 'debian', resources });
        await provider.start(id);
        const r = await provider.exec(id, 'echo ready');
        if (r.stdout.toString() !== 'ready\n') throw new Error(`unexpected output ${r.stdout}`);
        await provider.delete(id);
      }),
    });
    lifecycle.push({ label: 'bare unshare', samplesMs: await sample(iterations, () => bareUnshare('echo ready')) });
    const penv = podmanEnv();
    lifecycle.push({
      label: 'podman run --rm (runc)',
      samplesMs: podmanAvailable() ? await sample(iterations, () => podmanRun(penv, rootfs, 'echo ready')) : [],
    });
    printTable(`create → start → exec \`echo ready\` → delete (${iterations} iterations)`, lifecycle, 'pocketenv local (cold)');

    const id = newId();
    await provider.create({ id, hostname: id, base: 'debian', resources });
    await provider.start(id);
    const execs: Series[] = [];
    execs.push({ label: 'pocketenv local exec', samplesMs: await sample(iterations, () => provider.exec(id, 'echo ready')) });
    const initPid = await findInitPid(stateDir, id);
    execs.push({ label: 'bare nsenter', samplesMs: initPid ? await sample(iterations, () => bareNsenter(initPid, 'echo ready')) : [] });
    const pname = 'pe-bench-' + randomBytes(3).toString('hex');
    if (podmanAvailable()) {
      await podmanStartDetached(penv, rootfs, pname);
      execs.push({ label: 'podman exec', samplesMs: await sample(iterations, () => podmanExec(penv, pname, 'echo ready')) });
      await podmanRemove(penv, pname);
    }
    printTable(`exec \`echo ready\` on a running sandbox (${iterations} iterations)`, execs, 'pocketenv local exec');
    await provider.delete(id);
  } finally {
    for (const s of await provider.list()) await provider.delete(s.id).catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** The init pid of a running sandbox, read from the OCI runtime's state (for the nsenter floor). */
async function findInitPid(stateDir: string, id: string): Promise<number | undefined> {
  const { execFileSync } = await import('node:child_process');
  for (const root of [join(stateDir, 'oci')]) {
    try {
      const out = execFileSync('crun', ['--root', root, 'list', '--format', 'json']).toString();
      const entry = (JSON.parse(out) as { id: string; pid: number }[]).find((c) => c.id.endsWith(id));
      if (entry) return entry.pid;
    } catch {
      /* not crun or not there */
    }
  }
  return undefined;
}

await main();
