/**
 * The engine's create request for a sandbox container. Confinement is Docker's default and no
 * weaker than the local provider's: all capabilities dropped, then local's set added back
 * (Docker's default set) except NET_RAW (see CAPABILITIES); no privileges, no-new-privileges, Docker's default seccomp
 * profile, the same masked and read-only /proc paths, a private IPC namespace, tini
 * (`--init`) as PID 1, our isolated network, and the user namespace remapping of the engine
 * when it has one. Host mounts are only ours and read-only (CA bundle, tools dir), plus the
 * sandbox's volumes (docker volumes, see volumes.ts).
 */
import { existsSync } from 'node:fs';
import type Dockerode from 'dockerode';
import type { CreateSpec } from '../provider/types';
import { DEFAULT_CAPABILITIES, MASKED_PATHS, READONLY_PATHS } from '../shared/sandbox-defaults';
import { HOST_CA_BUNDLE } from '../local/oci-config';
import { TOOLS_MOUNT } from '../local/tools/code-server';
import { LABEL_BASE, LABEL_MANAGED, LABEL_OWNER, LABEL_SANDBOX, LABEL_SPEC } from './labels';
import { NETWORK_NAME } from './network';

const GiB = 1024 ** 3;

/**
 * The local provider's set minus NET_RAW. A local sandbox sits alone on a point-to-point veth;
 * containers share one bridge, where a raw socket could answer ARP for a neighbour's address and
 * take its traffic (the preview proxy's included). ping still works: ICMP datagram sockets are
 * opened to the container's root group (net.ipv4.ping_group_range, a per-network-namespace sysctl).
 */
const CAPABILITIES = DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_NET_RAW').map((c) => c.replace(/^CAP_/, ''));

export interface ContainerInput {
  spec: CreateSpec;
  /** The provider instance that owns the container (LABEL_OWNER). */
  owner: string;
  image: string;
  /** Docker volume name → mount point (and read-only flag). */
  volumes: { name: string; path: string; readOnly: boolean }[];
  /** The engine is on this host: our read-only host mounts are possible. */
  localEngine: boolean;
  /** Host tools dir (code-server…), mounted read-only when the engine is local. */
  toolsDir?: string;
  /** The storage driver's quota in MiB, when it can enforce one (see diskQuotaMiB). */
  diskQuotaMiB?: number;
}

/**
 * The quota to ask for: the sandbox's diskGiB for what it writes, as on `local` (whose disk
 * image holds only the sandbox's own layer). btrfs counts every byte a container references,
 * the image's files too, so there the image's size is added.
 */
export function diskQuotaMiB(diskGiB: number, storageDriver: string, imageBytes: number): number {
  const own = Math.max(1, Math.round(diskGiB * 1024));
  return storageDriver === 'btrfs' ? own + Math.ceil(imageBytes / 1048576) : own;
}

export function containerOptions(input: ContainerInput): Dockerode.ContainerCreateOptions {
  const { spec } = input;
  const r = spec.resources;
  const memory = Math.max(16 * 1024 * 1024, Math.floor(r.memoryGiB * GiB));
  const binds: string[] = [];
  if (input.localEngine && existsSync(HOST_CA_BUNDLE)) binds.push(`${HOST_CA_BUNDLE}:${HOST_CA_BUNDLE}:ro`);
  if (input.localEngine && input.toolsDir) binds.push(`${input.toolsDir}:${TOOLS_MOUNT}:ro`);
  return {
    Image: input.image,
    Hostname: spec.hostname,
    Cmd: ['sleep', 'infinity'],
    WorkingDir: '/workspace',
    Labels: {
      [LABEL_MANAGED]: 'true',
      [LABEL_OWNER]: input.owner,
      [LABEL_SANDBOX]: spec.id,
      [LABEL_BASE]: spec.base,
      [LABEL_SPEC]: JSON.stringify({ id: spec.id, hostname: spec.hostname, base: spec.base, resources: spec.resources }),
    },
    NetworkingConfig: { EndpointsConfig: { [NETWORK_NAME]: {} } },
    HostConfig: {
      NetworkMode: NETWORK_NAME,
      Init: true,
      Privileged: false,
      CapDrop: ['ALL'],
      CapAdd: CAPABILITIES,
      SecurityOpt: ['no-new-privileges:true'],
      MaskedPaths: MASKED_PATHS,
      ReadonlyPaths: READONLY_PATHS,
      IpcMode: 'private',
      Sysctls: { 'net.ipv4.ping_group_range': '0 0' },
      Memory: memory,
      MemorySwap: memory, // no swap beyond the memory limit
      NanoCpus: Math.max(10_000_000, Math.round(r.vcpus * 1e9)),
      PidsLimit: Math.max(8, Math.floor(r.pids)),
      ...(input.diskQuotaMiB ? { StorageOpt: { size: `${input.diskQuotaMiB}M` } } : {}),
      Binds: binds,
      Mounts: input.volumes.map((v) => ({ Type: 'volume' as const, Source: v.name, Target: v.path, ReadOnly: v.readOnly })),
      RestartPolicy: { Name: '' },
      LogConfig: { Type: 'none', Config: {} },
    },
  };
}
