/**
 * Preflight for the local provider: can this host run sandboxes, and if not,
 * exactly what is missing and how to fix it.
 *
 * Every input is a parameter with the real location as default, so tests can
 * point a check at a fake /proc/filesystems or claim a non-root uid instead of
 * mocking the module.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { HostNotReadyError } from '../provider/errors';
import { loopDevicesAvailable } from './disk';

const exec = promisify(execFile);

export type CgroupLayout = 'v1' | 'hybrid' | 'v2' | 'none';

export interface HostCheck {
  name: 'root' | 'overlayfs' | 'disk-images' | 'userns' | 'cgroups' | 'oci-runtime' | 'commands' | 'seccomp-profile';
  ok: boolean;
  /** What was found (on success) or what is wrong (on failure). */
  detail: string;
  /** What to do about it; only on failure. */
  fix?: string;
}

export interface HostReport {
  ok: boolean;
  checks: HostCheck[];
  cgroup: CgroupLayout;
  /** The OCI runtime that will be used (crun preferred), when one is installed. */
  ociRuntime?: 'crun' | 'runc';
}

export interface HostCheckOptions {
  uid?: number;
  procFilesystems?: string;
  /** `/proc/sys/user/max_user_namespaces`. */
  maxUserNamespaces?: string;
  cgroupRoot?: string;
  /** Directories searched for commands; default $PATH plus the sbin dirs. */
  searchPath?: string[];
  /** Also try to create a user namespace (`unshare --user`); default true. */
  probeUserns?: boolean;
  seccompProfile?: string;
  /** `/dev/loop-control`. */
  loopControl?: string;
}

/** Commands the local provider runs, with the Debian package that ships each. */
export const REQUIRED_COMMANDS: Record<string, string> = {
  catatonit: 'catatonit',
  nft: 'nftables',
  ip: 'iproute2',
  git: 'git',
  mmdebstrap: 'mmdebstrap',
  'systemd-nspawn': 'systemd-container',
  unshare: 'util-linux',
  nsenter: 'util-linux',
  flock: 'util-linux',
  'mkfs.ext4': 'e2fsprogs',
};

export const SECCOMP_PROFILE = '/usr/share/containers/seccomp.json';
const SECCOMP_PACKAGE = 'golang-github-containers-common';

export function defaultSearchPath(): string[] {
  const fromEnv = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  return [...new Set([...fromEnv, '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'])];
}

export function findCommand(name: string, searchPath: string[] = defaultSearchPath()): string | undefined {
  return searchPath.map((dir) => join(dir, name)).find((p) => existsSync(p));
}

function readOr(path: string, fallback: string | undefined): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

export function detectCgroupLayout(root = '/sys/fs/cgroup'): CgroupLayout {
  if (existsSync(join(root, 'cgroup.controllers'))) return 'v2';
  if (existsSync(join(root, 'memory')) || existsSync(join(root, 'pids'))) {
    return existsSync(join(root, 'unified', 'cgroup.controllers')) ? 'hybrid' : 'v1';
  }
  return 'none';
}

function checkCgroups(root: string): { check: HostCheck; layout: CgroupLayout } {
  const layout = detectCgroupLayout(root);
  const needed = ['memory', 'cpu', 'pids'];
  let missing: string[];
  if (layout === 'v2') {
    const available = (readOr(join(root, 'cgroup.controllers'), '') ?? '').split(/\s+/);
    missing = needed.filter((c) => !available.includes(c));
  } else if (layout === 'none') {
    missing = needed;
  } else {
    missing = needed.filter((c) => !existsSync(join(root, c)));
  }
  const ok = missing.length === 0;
  return {
    layout,
    check: {
      name: 'cgroups',
      ok,
      detail: ok
        ? `cgroup ${layout} with ${needed.join(', ')} controllers at ${root}`
        : layout === 'none'
          ? `no cgroup filesystem found at ${root}`
          : `cgroup ${layout} at ${root} lacks the ${missing.join(', ')} controller(s) needed for sandbox limits`,
      ...(ok ? {} : { fix: `mount cgroups at ${root} (v2: mount -t cgroup2 none ${root}; v1: one hierarchy per controller) with the memory, cpu and pids controllers enabled` }),
    },
  };
}

async function checkUserns(maxPath: string, probe: boolean, searchPath: string[]): Promise<HostCheck> {
  const fix = `enable user namespaces: the kernel needs CONFIG_USER_NS=y, then \`sysctl -w user.max_user_namespaces=15000\``;
  const raw = readOr(maxPath, undefined);
  if (raw === undefined) return { name: 'userns', ok: false, detail: `${maxPath} does not exist: this kernel has no user namespaces`, fix };
  const max = Number(raw.trim());
  if (!(max > 0)) return { name: 'userns', ok: false, detail: `user namespaces are disabled (${maxPath} = ${raw.trim()})`, fix };
  if (probe) {
    const unshare = findCommand('unshare', searchPath);
    if (unshare) {
      try {
        await exec(unshare, ['--user', '--map-root-user', 'true'], { timeout: 10_000 });
      } catch (err) {
        const why = ((err as { stderr?: string }).stderr ?? String(err)).trim();
        return { name: 'userns', ok: false, detail: `creating a user namespace failed: ${why}`, fix };
      }
    }
  }
  return { name: 'userns', ok: true, detail: `user namespaces available (max ${max})` };
}

export async function checkHost(opts: HostCheckOptions = {}): Promise<HostReport> {
  const uid = opts.uid ?? process.getuid?.() ?? -1;
  const searchPath = opts.searchPath ?? defaultSearchPath();
  const checks: HostCheck[] = [];

  checks.push(
    uid === 0
      ? { name: 'root', ok: true, detail: 'running as root' }
      : {
          name: 'root',
          ok: false,
          detail: `the local provider needs root (it mounts overlays, creates network interfaces and cgroups), but runs as uid ${uid}`,
          fix: 'run the server (or setup) as root, e.g. with sudo',
        },
  );

  const fsPath = opts.procFilesystems ?? '/proc/filesystems';
  const filesystems = readOr(fsPath, '') ?? '';
  const hasOverlay = filesystems.split('\n').some((line) => line.trim().split(/\s+/).pop() === 'overlay');
  checks.push(
    hasOverlay
      ? { name: 'overlayfs', ok: true, detail: 'kernel overlayfs available' }
      : {
          name: 'overlayfs',
          ok: false,
          detail: `the kernel does not list "overlay" in ${fsPath}: sandboxes need overlayfs for their root filesystem`,
          fix: 'load it with `modprobe overlay` (kernel option CONFIG_OVERLAY_FS)',
        },
  );

  checks.push(
    loopDevicesAvailable(filesystems, opts.loopControl)
      ? { name: 'disk-images', ok: true, detail: 'loop devices and ext4 available (each sandbox disk is a sized image)' }
      : {
          name: 'disk-images',
          ok: false,
          detail: 'no loop devices (/dev/loop-control) or no ext4 in the kernel: each sandbox disk is an ext4 image, loop-mounted, so its size holds',
          fix: 'load the loop driver with `modprobe loop` (in a container: give it /dev/loop-control and loop devices)',
        },
  );

  checks.push(await checkUserns(opts.maxUserNamespaces ?? '/proc/sys/user/max_user_namespaces', opts.probeUserns ?? true, searchPath));

  const cgroups = checkCgroups(opts.cgroupRoot ?? '/sys/fs/cgroup');
  checks.push(cgroups.check);

  const ociRuntime = (['crun', 'runc'] as const).find((r) => findCommand(r, searchPath));
  checks.push(
    ociRuntime
      ? { name: 'oci-runtime', ok: true, detail: `OCI runtime ${ociRuntime} at ${findCommand(ociRuntime, searchPath)}` }
      : { name: 'oci-runtime', ok: false, detail: 'no OCI runtime (crun or runc) found', fix: 'apt-get install -y crun runc' },
  );

  const missing = Object.keys(REQUIRED_COMMANDS).filter((c) => !findCommand(c, searchPath));
  const missingPackages = [...new Set(missing.map((c) => REQUIRED_COMMANDS[c]!))];
  checks.push(
    missing.length === 0
      ? { name: 'commands', ok: true, detail: `found ${Object.keys(REQUIRED_COMMANDS).join(', ')}` }
      : {
          name: 'commands',
          ok: false,
          detail: `missing command(s): ${missing.join(', ')}`,
          fix: `apt-get install -y --no-install-recommends ${missingPackages.join(' ')}`,
        },
  );

  const profile = opts.seccompProfile ?? SECCOMP_PROFILE;
  checks.push(
    existsSync(profile)
      ? { name: 'seccomp-profile', ok: true, detail: `seccomp profile ${profile}` }
      : {
          name: 'seccomp-profile',
          ok: false,
          detail: `the default seccomp profile ${profile} is missing`,
          fix: `apt-get install -y --no-install-recommends ${SECCOMP_PACKAGE}`,
        },
  );

  return { ok: checks.every((c) => c.ok), checks, cgroup: cgroups.layout, ...(ociRuntime ? { ociRuntime } : {}) };
}

/** One line per failed check: what is wrong, then what to do. */
export function describeProblems(report: HostReport): string {
  return report.checks
    .filter((c) => !c.ok)
    .map((c) => `- ${c.detail}${c.fix ? `\n  fix: ${c.fix}` : ''}`)
    .join('\n');
}

/** Throws HostNotReadyError naming every problem when the host cannot run sandboxes. */
export async function assertHostReady(opts: HostCheckOptions = {}): Promise<HostReport> {
  const report = await checkHost(opts);
  if (!report.ok) {
    throw new HostNotReadyError(`this host cannot run local sandboxes yet:\n${describeProblems(report)}`);
  }
  return report;
}
