/**
 * Installs the Debian packages the local provider needs on the host, and only
 * the missing ones: `apt-get update` once, then one `apt-get install`.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { HostNotReadyError } from '../provider/errors';
import type { ProgressEvent } from '../provider/types';
import { AptProgress, type Stage } from './images/apt-progress';
import { CommandError, runCommand } from './images/run';

const exec = promisify(execFile);

/** Package → why the provider needs it. */
export const HOST_PACKAGES: Record<string, string> = {
  crun: 'OCI runtime (preferred)',
  runc: 'OCI runtime (fallback)',
  catatonit: 'init (PID 1) that reaps zombies inside each sandbox',
  nftables: 'NAT for sandbox egress',
  iproute2: 'veth pairs and addresses for sandbox networking',
  git: 'cloning repositories into sandboxes',
  uidmap: 'user-namespace id mapping helpers',
  mmdebstrap: 'building the Debian base image',
  'debian-archive-keyring': 'verifying Debian packages while building the base image',
  'systemd-container': 'systemd-nspawn: shifting base image ownership and building derived images',
  'libcap2-bin': 'keeping file capabilities (ping) when shifting base image ownership',
  'golang-github-containers-common': 'the default seccomp profile /usr/share/containers/seccomp.json',
  'util-linux': 'unshare, nsenter and flock',
  e2fsprogs: 'mkfs.ext4 for each sandbox disk image',
};

/**
 * Optional: the `gvisor` isolation level. Installed by setup like the others, but a host where
 * they cannot be installed keeps working at the `standard` level (describeServer then says
 * gvisor is unavailable, and why).
 */
export const OPTIONAL_HOST_PACKAGES: Record<string, string> = {
  runsc: 'gVisor, the runtime of the `gvisor` isolation level',
  gcc: "building gVisor sandboxes' statx compatibility library (see gvisor/statx-compat.c)",
  'libc6-dev': "headers for gVisor sandboxes' statx compatibility library",
};

/** The subset of `packages` that dpkg does not report as installed. */
export async function missingPackages(packages: string[] = Object.keys(HOST_PACKAGES)): Promise<string[]> {
  let stdout = '';
  try {
    ({ stdout } = await exec('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\\n', ...packages]));
  } catch (err) {
    // dpkg-query exits 1 when some package is unknown to dpkg, but still prints the others.
    stdout = (err as { stdout?: string }).stdout ?? '';
  }
  const installed = new Set(
    stdout
      .split('\n')
      .map((line) => line.trim().split(' '))
      .filter(([, status]) => status === 'installed')
      .map(([name]) => name!.replace(/:.*$/, '')),
  );
  return packages.filter((p) => !installed.has(p));
}

const APT_STAGES: Stage[] = [
  { marker: '==> apt-get update', phase: 'apt-get update', label: 'apt-get update', from: 0, to: 0.2 },
  { marker: '==> apt-get install', phase: 'apt-get install', from: 0.2, to: 1, counts: 'all' },
];

export interface EnsureHostPackagesOptions {
  packages?: string[];
  /** Installed after `packages`; failing to install them is reported, not thrown. Default OPTIONAL_HOST_PACKAGES. */
  optional?: string[];
  onProgress?: (e: ProgressEvent) => void;
}

/** Installs whatever of `packages` is missing; resolves with what was installed. */
export async function ensureHostPackages(opts: EnsureHostPackagesOptions = {}): Promise<string[]> {
  const emit = (e: ProgressEvent) => opts.onProgress?.({ ...e, phase: `host packages: ${e.phase}` });
  if (!existsSync('/usr/bin/dpkg-query') || !existsSync('/usr/bin/apt-get')) {
    const wanted = opts.packages ?? Object.keys(HOST_PACKAGES);
    throw new HostNotReadyError(
      `this host has no apt/dpkg, so pocketenv cannot install its dependencies itself; install the equivalents of: ${wanted.join(', ')}`,
    );
  }
  const installed = await installMissing(opts.packages ?? Object.keys(HOST_PACKAGES), emit);
  const optional = opts.optional ?? (opts.packages ? [] : Object.keys(OPTIONAL_HOST_PACKAGES));
  try {
    installed.push(...(await installMissing(optional, emit)));
  } catch (err) {
    // Only the gvisor level needs these: say so and carry on at the standard level.
    emit({ phase: 'optional', message: `optional packages (${optional.join(', ')}) not installed, the gvisor isolation level stays unavailable: ${(err as Error).message}` });
  }
  return installed;
}

async function installMissing(packages: string[], emit: (e: ProgressEvent) => void): Promise<string[]> {
  if (packages.length === 0) return [];
  const missing = await missingPackages(packages);
  if (missing.length === 0) {
    emit({ phase: 'ok', fraction: 1, message: `host packages installed: ${packages.join(', ')}` });
    return [];
  }
  if (process.getuid?.() !== 0) {
    throw new HostNotReadyError(
      `missing host packages: ${missing.join(', ')}; installing them needs root: sudo apt-get install -y --no-install-recommends ${missing.join(' ')}`,
    );
  }
  emit({ phase: 'install', fraction: 0, message: `installing: ${missing.join(', ')}` });
  const progress = new AptProgress(APT_STAGES, emit);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  progress.line('==> apt-get update');
  try {
    await runCommand('apt-get', ['update'], { env, onLine: (l) => progress.line(l) });
  } catch (err) {
    // A broken third-party source must not block installing from Debian; install tells if it matters.
    emit({ phase: 'apt-get update', message: `apt-get update reported errors, trying to install anyway: ${(err as Error).message.split('\n').pop()}` });
  }
  progress.line('==> apt-get install');
  try {
    await runCommand('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env, onLine: (l) => progress.line(l) });
  } catch (err) {
    const tail = err instanceof CommandError ? err.tail : String(err);
    throw new HostNotReadyError(`installing host packages (${missing.join(', ')}) failed:\n${tail}`);
  }
  const stillMissing = await missingPackages(missing);
  if (stillMissing.length) throw new HostNotReadyError(`apt-get did not install: ${stillMissing.join(', ')}`);
  emit({ phase: 'done', fraction: 1, message: `installed: ${missing.join(', ')}` });
  return missing;
}
