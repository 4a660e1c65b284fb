/**
 * Crash suite: the server runs as a real process and is killed with -9 at a random moment
 * during a create, start, stop, delete, exec, copy (pushDirectory) or backup, then restarted
 * on the same data directory. After each restart:
 *  - every sandbox has a true status (RUNNING ⇔ exec works; otherwise no container, no veth,
 *    no rootfs mount), once reconciliation has settled it;
 *  - no sandbox whose create had answered is lost, and each one's witness file (written
 *    right after it was created) is intact once it runs;
 *  - nothing leaked: every host object (state dir, container, mount, veth, cgroup,
 *    process) belongs to a live record.
 * Prints `N crashes, 0 lost, 0 leaked`. CI: 10 crashes; POCKETENV_SAFETY_FULL=1: 50
 * (or POCKETENV_CRASH_COUNT).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Api, ServerProcess, expectOk, hostObjects, readOwnerToken, vethExists } from '../helpers';
import { countFrom, figure, leftoversOf } from './support';

const CRASHES = countFrom('POCKETENV_CRASH_COUNT', 50, 10);
const OPS = ['create', 'start', 'stop', 'delete', 'exec', 'copy', 'backup'] as const;
type Op = (typeof OPS)[number];

let dataDir: string;
let proc: ServerProcess | undefined;
let api: Api;
/** Sandboxes whose create answered 200, with their witness content; removed when a delete answers. */
const known = new Map<string, string>();
/** Every id ever seen (to check the deleted ones left nothing). */
const everSeen = new Set<string>();
const stats = { crashes: 0, lost: 0, leaked: 0, byOp: {} as Record<string, number> };
const problems: string[] = [];

async function restart(): Promise<void> {
  proc = await ServerProcess.start(dataDir, { POCKETENV_LOG: '0' });
  api = new Api(proc.url, await readOwnerToken(dataDir));
}

async function records(): Promise<any[]> {
  return expectOk(await api.query('io.pocketenv.sandbox.getSandboxes', { limit: 100 })).sandboxes;
}

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-safety-crash-'));
  await restart();
  for (let i = 0; i < 2; i++) await createKnown();
}, 120_000);

afterAll(async () => {
  try {
    if (proc) {
      for (const sb of await records().catch(() => [])) await api.delete(sb.id).catch(() => undefined);
      const left = await leftoversOf([...everSeen], dataDir);
      if (left.length) problems.push(`after deleting everything: ${left.join(', ')}`);
      stats.leaked += left.length;
      await proc.kill('SIGTERM');
    }
  } finally {
    await fs.rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
    const ops = Object.entries(stats.byOp).map(([op, n]) => `${op} ${n}`).join(', ');
    figure('crash', `${stats.crashes} crashes, ${stats.lost} lost, ${stats.leaked} leaked (kill -9 during: ${ops})`);
  }
});

async function createKnown(): Promise<string> {
  const sb = await api.create({});
  const witness = `witness-${sb.id}-${Date.now()}`;
  await api.exec(sb.id, `echo ${witness} > /workspace/witness && sync`);
  known.set(sb.id, witness);
  everSeen.add(sb.id);
  return sb.id;
}

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

/** Fires the operation (not awaited: the server dies under it). Creates that answer are recorded. */
function fire(op: Op, id: string | undefined): Promise<unknown> {
  const call = async () => {
    switch (op) {
      case 'create': {
        const r = await api.procedure('io.pocketenv.sandbox.createSandbox', undefined, { base: 'debian' });
        if (r.status === 200) everSeen.add(r.body.id);
        return;
      }
      case 'start':
        return api.procedure('io.pocketenv.sandbox.startSandbox', { id }, {});
      case 'stop':
        return api.procedure('io.pocketenv.sandbox.stopSandbox', { id }, {});
      case 'delete': {
        const r = await api.procedure('io.pocketenv.sandbox.deleteSandbox', { id }, {});
        if (r.status === 200 && id) known.delete(id);
        return;
      }
      case 'exec':
        return api.procedure('io.pocketenv.sandbox.exec', { id }, { command: 'for i in 1 2 3 4 5; do echo $i >> /tmp/exec-log; sleep 0.05; done' });
      case 'copy':
        return api.procedure('io.pocketenv.sandbox.pushDirectory', undefined, { sandboxId: id, directoryPath: '/workspace' });
      case 'backup':
        return api.procedure('io.pocketenv.sandbox.createBackup', { id }, { directory: '/workspace' });
    }
  };
  return call().catch(() => undefined); // the connection dies with the server
}

/** Waits until reconciliation has settled every record (no INITIALIZING left). */
async function settled(): Promise<any[]> {
  for (let i = 0; i < 120; i++) {
    const list = await records();
    if (!list.some((r) => r.status === 'INITIALIZING')) return list;
    await new Promise((r) => setTimeout(r, 250));
  }
  return records();
}

async function check(round: number, op: Op): Promise<void> {
  const list = await settled();
  const ids = new Set(list.map((r) => r.id));
  for (const r of list) everSeen.add(r.id);
  // Nothing that had been created is lost (a delete in flight may have completed: then it is gone on purpose).
  for (const [id] of known) {
    if (!ids.has(id)) {
      if (op === 'delete') known.delete(id);
      else {
        stats.lost++;
        problems.push(`round ${round} (${op}): sandbox ${id} is gone`);
        known.delete(id);
      }
    }
  }
  const host = await hostObjects(dataDir);
  for (const id of [...host.stateDirs, ...host.containers, ...host.mounted]) {
    if (!ids.has(id)) {
      stats.leaked++;
      problems.push(`round ${round} (${op}): host object of ${id} has no record`);
    }
  }
  const gone = [...everSeen].filter((id) => !ids.has(id));
  for (const left of await leftoversOf(gone, dataDir)) {
    stats.leaked++;
    problems.push(`round ${round} (${op}): ${left}`);
  }
  for (const r of list) {
    const exec = await api.procedure('io.pocketenv.sandbox.exec', { id: r.id }, { command: 'cat /workspace/witness 2>/dev/null; true' });
    if (r.status === 'RUNNING') {
      if (exec.status !== 200) problems.push(`round ${round} (${op}): ${r.id} says RUNNING but exec answered ${exec.status}`);
      const witness = known.get(r.id);
      if (exec.status === 200 && witness && exec.body.stdout.trim() !== witness) {
        // Read it once more through a plain exec: an exec that itself failed is not a lost file.
        const again = await api.procedure('io.pocketenv.sandbox.exec', { id: r.id }, { command: 'cat /workspace/witness' });
        if (again.status === 200 && again.body.stdout.trim() === witness) {
          problems.push(`round ${round} (${op}): ${r.id} an exec answered 200 with wrong output (${JSON.stringify(exec.body)}); the file is intact`);
        } else {
          stats.lost++;
          problems.push(`round ${round} (${op}): ${r.id} witness file is ${JSON.stringify(again.body)}, expected ${witness}`);
        }
      }
    } else {
      if (exec.status === 200) problems.push(`round ${round} (${op}): ${r.id} says ${r.status} but exec worked`);
      const leftovers = [host.containers.includes(r.id) && 'container', host.mounted.includes(r.id) && 'mount', (await vethExists(r.id)) && 'veth'].filter(Boolean);
      if (leftovers.length) {
        stats.leaked += leftovers.length;
        problems.push(`round ${round} (${op}): ${r.id} is ${r.status} but has ${leftovers.join(', ')}`);
      }
    }
  }
}

it(`survives ${CRASHES} kill -9 at random points of every operation`, async () => {
  for (let round = 1; round <= CRASHES; round++) {
    // Keep a few sandboxes around, in a mix of states.
    const list = await records();
    if (list.length < 2) await createKnown();
    const op = OPS[(round - 1) % OPS.length]!;
    const target = pick((await records()).map((r) => r.id as string));
    if (op === 'start') await api.procedure('io.pocketenv.sandbox.stopSandbox', { id: target }, {});
    const inFlight = fire(op, target);
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 300)));
    await proc!.kill('SIGKILL');
    await inFlight;
    stats.crashes++;
    stats.byOp[op] = (stats.byOp[op] ?? 0) + 1;
    await restart();
    await check(round, op);
  }
  // Finally every surviving sandbox must start and show its witness.
  for (const r of await records()) {
    await api.procedure('io.pocketenv.sandbox.startSandbox', { id: r.id }, {});
    const witness = known.get(r.id);
    if (!witness) continue;
    const got = await api.procedure('io.pocketenv.sandbox.exec', { id: r.id }, { command: 'cat /workspace/witness' });
    if (got.status !== 200 || got.body.stdout.trim() !== witness) {
      stats.lost++;
      problems.push(`final: ${r.id} witness ${got.status} ${JSON.stringify(got.body)}`);
    }
  }
  expect(problems).toEqual([]);
}, 900_000);
