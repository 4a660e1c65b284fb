/**
 * Shared pieces of the safety suites: a scoreboard that prints each suite's figure line,
 * latency percentiles, how many items a suite runs in CI vs. in a full run, and a
 * snapshot of the host objects the local provider creates (to prove nothing leaked).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';

/** `POCKETENV_SAFETY_FULL=1` runs the full counts the issue asks for; CI runs reduced ones. */
export const FULL = process.env.POCKETENV_SAFETY_FULL === '1' || process.env.POCKETENV_SAFETY_FULL === 'true';

/** A count from an env var, else the full or the CI value. */
export function countFrom(envName: string, full: number, ci: number): number {
  const raw = process.env[envName];
  if (raw !== undefined && raw !== '') {
    const n = Number(raw);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${envName} must be a positive integer, got ${JSON.stringify(raw)}`);
    return n;
  }
  return FULL ? full : ci;
}

export { percentile } from '../../../../bench/lib/stats';

/** Prints a figure line so it stands out in `vitest run` output (and greps well in CI logs). */
export function figure(suite: string, line: string): void {
  // eslint-disable-next-line no-console
  console.log(`\n[safety:${suite}] ${line}\n`);
}

export function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(file, args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) }),
    ),
  );
}

/** Reads a TCP banner from the host side (positive controls). */
export function hostRead(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    const c = net.connect({ host, port, timeout: 3000 }, () => undefined);
    c.on('data', (d) => (data += d));
    c.on('end', () => resolve(data));
    c.on('timeout', () => (c.destroy(), resolve(data)));
    c.on('error', () => resolve(data));
  });
}

/** A shell command (run inside a sandbox) that serves `marker` to every TCP connection on `port`, in the background. */
export function markerServiceCommand(marker: string, port: number): string {
  return `setsid -f python3 -c "
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', ${port})); s.listen(16)
while True:
    c, _ = s.accept(); c.sendall(b'${marker}\\n'); c.close()
" >/dev/null 2>&1 < /dev/null`;
}

/** Waits (up to ~10 s) until the host reads `marker` from host:port. */
export async function waitForBanner(host: string, port: number, marker: string): Promise<void> {
  for (let i = 0; i < 100 && !(await hostRead(host, port)).includes(marker); i++) await new Promise((r) => setTimeout(r, 100));
}

/** Python that tries a TCP connection and prints whatever comes back. */
export const tcpTry = (host: string, port: number) =>
  `try:\n    s = socket.create_connection(('${host}', ${port}), timeout=2); s.settimeout(2)\n    print('CONNECTED', s.recv(200).decode(errors='replace'))\nexcept Exception as e:\n    print('blocked', '${host}:${port}', e)\n`;

/** Host objects that belong to sandboxes: what must come back to its baseline after cleanup or recovery. */
export interface HostSnapshot {
  /** Host veth ends (`pe*`). */
  veths: string[];
  /** Mount points under the data dir or the provider's rootfs mount base. */
  mounts: string[];
  /** Cgroups under the provider's parent (`pocketenv/<id>`) in every v1 hierarchy (or v2). */
  cgroups: string[];
  /** Rules in the static nft table (a count; the table must never grow per sandbox). */
  nftRules: number;
  /** Processes whose cgroup is a pocketenv one. */
  processes: number;
}

export async function hostSnapshot(dataDir: string): Promise<HostSnapshot> {
  const links = await run('ip', ['-o', 'link', 'show']);
  const veths = links.stdout
    .split('\n')
    .map((l) => /^\d+:\s+([^:@]+)/.exec(l)?.[1])
    .filter((n): n is string => !!n && /^pe[0-9a-f]{13}$/.test(n))
    .sort();
  const mounts = (await fs.readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((m): m is string => !!m && (m.startsWith(dataDir + '/') || m.startsWith('/run/pocketenv/rootfs/')));
  const cgroups: string[] = [];
  for (const root of await cgroupRoots()) {
    const dir = `${root}/pocketenv`;
    for (const entry of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory()) cgroups.push(`${dir}/${entry.name}`);
    }
  }
  const nft = await run('nft', ['-a', 'list', 'table', 'inet', 'pocketenv']);
  const nftRules = nft.code === 0 ? (nft.stdout.match(/# handle \d+/g) ?? []).length : 0;
  let processes = 0;
  for (const pid of await fs.readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const cg = await fs.readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '');
    if (/:\/pocketenv\//.test(cg)) processes++;
  }
  return { veths, mounts: mounts.sort(), cgroups: cgroups.sort(), nftRules, processes };
}

async function cgroupRoots(): Promise<string[]> {
  const entries = await fs.readdir('/sys/fs/cgroup', { withFileTypes: true }).catch(() => []);
  const roots = entries.filter((e) => e.isDirectory()).map((e) => `/sys/fs/cgroup/${e.name}`);
  return roots.length ? roots : ['/sys/fs/cgroup'];
}

/**
 * Host objects still present for the given sandbox ids (veth, cgroups, processes, OCI
 * container state, mounts under the data dir). Keyed on ids, so sandboxes of other test
 * files running at the same time are not mistaken for leaks.
 */
export async function leftoversOf(ids: string[], dataDir: string): Promise<string[]> {
  const out: string[] = [];
  const snap = await hostSnapshot(dataDir);
  const { createHash } = await import('node:crypto');
  for (const id of ids) {
    const veth = 'pe' + createHash('sha256').update(id).digest('hex').slice(0, 13);
    if (snap.veths.includes(veth)) out.push(`veth ${veth} of ${id}`);
    for (const cg of snap.cgroups) if (cg.endsWith(`/pocketenv/${id}`)) out.push(`cgroup ${cg}`);
    for (const root of await cgroupRoots()) {
      const procs = await fs.readFile(`${root}/pocketenv/${id}/cgroup.procs`, 'utf8').catch(() => '');
      if (procs.trim()) out.push(`processes in ${root}/pocketenv/${id}: ${procs.trim().split('\n').length}`);
    }
    const oci = await fs.readdir(`${dataDir}/runtime/local/oci/pe-${id}`).catch(() => undefined);
    if (oci) out.push(`OCI container state pe-${id}`);
    if (snap.mounts.includes(`/run/pocketenv/rootfs/${id}`)) out.push(`rootfs mount of ${id}`);
  }
  // Under the data dir only running sandboxes' disks are mounted; a gone sandbox has none.
  const sandboxes = `${dataDir}/runtime/local/sandboxes/`;
  for (const m of snap.mounts) {
    if (!m.startsWith(dataDir + '/')) continue;
    const owner = m.startsWith(sandboxes) ? m.slice(sandboxes.length).split('/')[0] : undefined;
    if (owner === undefined || ids.includes(owner) || m !== `${sandboxes}${owner}/disk`) out.push(`mount ${m}`);
  }
  for (const backing of await loopsOnceReleased(dataDir, ids)) out.push(`loop device on ${backing}`);
  return out;
}

/** Backing files of attached loop devices. */
async function loopBackingFiles(): Promise<string[]> {
  const out: string[] = [];
  for (const dev of (await fs.readdir('/sys/block').catch(() => [] as string[])).filter((d) => d.startsWith('loop'))) {
    const backing = await fs.readFile(`/sys/block/${dev}/loop/backing_file`, 'utf8').catch(() => undefined);
    if (backing) out.push(backing.trim());
  }
  return out;
}

/**
 * Disk images of `ids` (in `dataDir`) still attached to a loop device, once the kernel had up
 * to 15 s to free them: it frees one when the last copy of its mount goes, which a runtime
 * call of another sandbox can delay a little.
 */
async function loopsOnceReleased(dataDir: string, ids: string[]): Promise<string[]> {
  const ofIds = (backing: string) =>
    backing.startsWith(dataDir + '/') && ids.some((id) => backing.includes(`/sandboxes/${id}/`) || backing.includes(`/trash/${id}-`));
  const deadline = Date.now() + 15_000;
  for (;;) {
    const attached = (await loopBackingFiles()).filter(ofIds);
    if (attached.length === 0 || Date.now() > deadline) return attached;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Items of `after` that are not in `before` (what a run left behind). */
export function leakedSince(before: HostSnapshot, after: HostSnapshot): string[] {
  const extra = (a: string[], b: string[]) => b.filter((x) => !a.includes(x));
  return [
    ...extra(before.veths, after.veths).map((v) => `veth ${v}`),
    ...extra(before.mounts, after.mounts).map((m) => `mount ${m}`),
    ...extra(before.cgroups, after.cgroups).map((c) => `cgroup ${c}`),
    ...(after.nftRules > before.nftRules && before.nftRules > 0 ? [`nft rules ${before.nftRules} → ${after.nftRules}`] : []),
    ...(after.processes > before.processes ? [`processes in pocketenv cgroups ${before.processes} → ${after.processes}`] : []),
  ];
}
