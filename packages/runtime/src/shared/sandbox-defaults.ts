/**
 * What every sandbox starts with, whichever provider runs it: the working directory, the base
 * environment, and Docker's default confinement (capabilities, masked and read-only /proc
 * paths). The local provider writes these into its OCI config; the docker provider asks the
 * engine for the same, so a `debian` sandbox is the same system on both.
 */

export const WORKSPACE = '/workspace';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Docker's default capability set. */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** Docker's default masked paths: kernel info a sandbox has no business reading. */
export const MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** The environment every process starts with; the sandbox's env and per-exec env go over it. */
export function baseEnv(hostname: string): Record<string, string> {
  return { PATH: DEFAULT_PATH, HOME: '/root', TERM: 'xterm', LANG: 'C.UTF-8', HOSTNAME: hostname };
}

/** `KEY=value` list, in a stable order; later records win. */
export function envList(...layers: (Record<string, string> | undefined)[]): string[] {
  const merged: Record<string, string> = {};
  for (const layer of layers) Object.assign(merged, layer ?? {});
  return Object.entries(merged).map(([k, v]) => `${k}=${v}`);
}
