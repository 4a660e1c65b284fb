/**
 * The OCI bundle config (config.json) of a sandbox and the process.json of an exec.
 *
 * Defaults follow Docker's: its capability set, masked and read-only /proc paths,
 * device allowlist and a seccomp allowlist (seccomp.ts). On top of that every
 * sandbox gets its own user namespace (container root = an unprivileged host uid
 * range), so even a breakout lands as a nobody on the host.
 */
import type { Resources, VolumeMount } from '../provider/types';
import type { OciSeccomp } from './seccomp';
import { DEFAULT_CAPABILITIES, MASKED_PATHS, READONLY_PATHS } from '../shared/sandbox-defaults';

export { baseEnv, DEFAULT_CAPABILITIES, DEFAULT_PATH, envList, MASKED_PATHS, READONLY_PATHS, WORKSPACE } from '../shared/sandbox-defaults';

/** Container uid/gid 0 maps to this host id; shared with the base image's ownership shift. */
export const SANDBOX_UID_BASE = 131072;
export const SANDBOX_UID_COUNT = 65536;

/** Where the init (catatonit) is bind-mounted inside the sandbox. Under /dev (a tmpfs) so no mount point lands in the sandbox's files. */
export const INIT_PATH = '/dev/init';

/** The host files mounted read-only so TLS (intercepting proxies) and DNS work inside. */
export const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
export const HOST_RESOLV_CONF = '/etc/resolv.conf';

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options?: string[];
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
}

interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface OciProcess {
  terminal: boolean;
  user: { uid: number; gid: number; additionalGids?: number[] };
  args: string[];
  env: string[];
  cwd: string;
  capabilities: { bounding: string[]; effective: string[]; permitted: string[]; inheritable: string[]; ambient: string[] };
  noNewPrivileges: boolean;
}

const sandboxMapping: IdMapping[] = [{ containerID: 0, hostID: SANDBOX_UID_BASE, size: SANDBOX_UID_COUNT }];

export function processSpec(args: string[], env: string[], cwd: string): OciProcess {
  return {
    terminal: false,
    user: { uid: 0, gid: 0 },
    args,
    env,
    cwd,
    capabilities: {
      bounding: DEFAULT_CAPABILITIES,
      effective: DEFAULT_CAPABILITIES,
      permitted: DEFAULT_CAPABILITIES,
      inheritable: [],
      ambient: [],
    },
    noNewPrivileges: false,
  };
}

export interface SandboxConfigInput {
  /** Sandbox id (an annotation only; host names are derived elsewhere). */
  id: string;
  hostname: string;
  /** Absolute path of the mounted overlay. */
  rootfs: string;
  resources: Resources;
  /** Full environment (see envList). */
  env: string[];
  volumes: VolumeMount[];
  cgroupsPath: string;
  /** Host path of the init binary (catatonit). */
  initBinary: string;
  /** More bind mounts the provider adds (the exec agent's socket dir and script). */
  extraMounts?: OciMount[];
  seccomp: OciSeccomp;
  /** Whether memory+swap can be limited (v1 without swap accounting cannot). */
  limitSwap: boolean;
}

const GiB = 1024 ** 3;
const CPU_PERIOD_US = 100_000;

/**
 * Memory, CPU and pids from the sandbox's Resources. `diskGiB` is the size of the
 * sandbox's disk image (disk.ts), not a cgroup setting.
 */
export function resourcesOf(r: Resources, limitSwap: boolean) {
  const memory = Math.max(16 * 1024 * 1024, Math.floor(r.memoryGiB * GiB));
  return {
    memory: { limit: memory, ...(limitSwap ? { swap: memory } : {}) },
    cpu: { quota: Math.max(1000, Math.round(r.vcpus * CPU_PERIOD_US)), period: CPU_PERIOD_US },
    pids: { limit: Math.max(8, Math.floor(r.pids)) },
    devices: [
      { allow: false, access: 'rwm' },
      // mknod of any device is allowed (as in Docker); opening one needs the rules below.
      { allow: true, type: 'c', access: 'm' },
      { allow: true, type: 'b', access: 'm' },
      ...[
        [1, 3], // null
        [1, 5], // zero
        [1, 7], // full
        [1, 8], // random
        [1, 9], // urandom
        [5, 0], // tty
        [5, 1], // console
        [5, 2], // ptmx
        [10, 200], // net/tun
      ].map(([major, minor]) => ({ allow: true, type: 'c', major, minor, access: 'rwm' })),
      { allow: true, type: 'c', major: 136, access: 'rwm' }, // pts
    ],
  };
}

function volumeMount(v: VolumeMount): OciMount {
  // An idmapped bind mount: on-disk uid N is seen as host uid SANDBOX_UID_BASE+N,
  // which the sandbox's user namespace shows as N. So host root's files are root's
  // inside, and what root writes inside lands as host root: volume data needs no
  // chown and stays usable by the server.
  return {
    destination: v.path,
    type: 'bind',
    source: v.hostPath,
    options: ['rbind', v.readOnly ? 'ro' : 'rw', 'nosuid', 'nodev', 'idmap'],
    uidMappings: sandboxMapping,
    gidMappings: sandboxMapping,
  };
}

export function sandboxConfig(input: SandboxConfigInput) {
  const mounts: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    { destination: INIT_PATH, type: 'bind', source: input.initBinary, options: ['bind', 'ro', 'nosuid', 'nodev'] },
    { destination: HOST_RESOLV_CONF, type: 'bind', source: HOST_RESOLV_CONF, options: ['bind', 'ro', 'nosuid', 'nodev', 'noexec'] },
    { destination: HOST_CA_BUNDLE, type: 'bind', source: HOST_CA_BUNDLE, options: ['bind', 'ro', 'nosuid', 'nodev', 'noexec'] },
    ...(input.extraMounts ?? []),
    ...input.volumes.map(volumeMount),
  ];
  return {
    ociVersion: '1.0.2',
    process: processSpec([INIT_PATH, '-P'], input.env, '/'),
    root: { path: input.rootfs, readonly: false },
    hostname: input.hostname,
    mounts,
    annotations: { 'io.pocketenv.sandbox': input.id },
    linux: {
      uidMappings: sandboxMapping,
      gidMappings: sandboxMapping,
      // No path for the network namespace: the runtime creates it inside the sandbox's
      // user namespace, and the host side plugs a veth into it between create and start.
      namespaces: ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup', 'user'].map((type) => ({ type })),
      cgroupsPath: input.cgroupsPath,
      resources: resourcesOf(input.resources, input.limitSwap),
      seccomp: input.seccomp,
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
      rootfsPropagation: 'private',
    },
  };
}
