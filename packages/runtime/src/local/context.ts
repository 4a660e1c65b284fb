/** Everything the local provider's parts share: where state lives and which host tools drive it. */
import { existsSync } from 'node:fs';
import type { BaseImages } from './images/index';
import type { SandboxNetworks } from './network/index';
import type { OciRuntime } from './oci-runtime';
import type { StatePaths } from './paths';
import { cgroupLayout } from './cgroups';

export interface LocalContext {
  paths: StatePaths;
  runtime: OciRuntime;
  images: BaseImages;
  /** Shared tools dir, bind-mounted read-only into every sandbox. */
  toolsDir: string;
  networks: SandboxNetworks;
  /** Host path of catatonit, the sandbox's PID 1. */
  initBinary: string;
  /** Sets up host-wide NAT/filter rules once per provider instance. */
  hostNetworkReady(): Promise<void>;
}

/**
 * Whether memory+swap is limited too (so a sandbox cannot swap its way past its
 * memory limit). Only on v1 with swap accounting: on v2 the runtime would need
 * `memory.swap.max`, which is absent on kernels without swap support, so there we
 * set the memory limit alone.
 */
export function canLimitSwap(): boolean {
  if (cgroupLayout().mode === 'v2') return false;
  return existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes');
}
