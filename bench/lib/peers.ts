/**
 * The peers we measure against in the same run: a bare namespace spawn (the floor)
 * and podman (runc runtime) on the same base rootfs.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** `unshare` of every namespace a sandbox gets, running the command: no rootfs, no cgroup, no network. */
export async function bareUnshare(command: string): Promise<void> {
  await run('unshare', ['--user', '--map-root-user', '--mount', '--pid', '--net', '--uts', '--ipc', '--cgroup', '--fork', '--mount-proc', 'sh', '-c', command]);
}

/** `nsenter` into a running process's namespaces: the floor for exec. */
export async function bareNsenter(pid: number, command: string): Promise<void> {
  await run('nsenter', ['-t', String(pid), '--all', '--root', '--wd=/', 'sh', '-c', command]);
}

export function podmanAvailable(): boolean {
  return spawnSync('podman', ['--version']).status === 0;
}

/**
 * podman as the measured machine can run it: runc (crun refuses hybrid cgroups) and
 * ulimits below the hard limits (no CAP_SYS_RESOURCE here), see local-isolation.md §1.
 */
export function podmanEnv(): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'pe-bench-podman-'));
  const conf = join(dir, 'containers.conf');
  writeFileSync(conf, '[containers]\ndefault_ulimits=["nofile=20000:20000","nproc=32768:32768"]\n[engine]\nruntime="runc"\n');
  return { ...process.env, CONTAINERS_CONF: conf };
}

export async function podmanRun(env: NodeJS.ProcessEnv, rootfs: string, command: string): Promise<void> {
  await run('podman', ['run', '--rm', '--rootfs', `${rootfs}:O`, 'sh', '-c', command], { env });
}

export async function podmanStartDetached(env: NodeJS.ProcessEnv, rootfs: string, name: string): Promise<void> {
  await run('podman', ['run', '-d', '--name', name, '--rootfs', `${rootfs}:O`, 'sleep', 'infinity'], { env });
}

export async function podmanExec(env: NodeJS.ProcessEnv, name: string, command: string): Promise<void> {
  await run('podman', ['exec', name, 'sh', '-c', command], { env });
}

export async function podmanRemove(env: NodeJS.ProcessEnv, name: string): Promise<void> {
  await run('podman', ['rm', '-f', '-t', '0', name], { env }).catch(() => undefined);
}
