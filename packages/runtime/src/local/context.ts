/** Everything the local provider's parts share: where state lives and which host tools drive it. */
import { existsSync } from 'node:fs';
import type { IsolationLevel } from '../provider/types';
import { HostNotReadyError } from '../provider/errors';
import type { BaseImages } from './images/index';
import type { SandboxNetworks } from './network/index';
import type { OciRuntime, SandboxRuntime } from './oci-runtime';
import type { StatePaths } from './paths';
import type { GvisorRuntime } from './gvisor/runsc';
import type { GvisorPlatform } from './gvisor/platform';
import { cgroupLayout } from './cgroups';

export interface LocalContext {
  paths: StatePaths;
  /** crun (or runc): the `standard` isolation level. */
  runtime: OciRuntime;
  /**
   * runsc on `platform` (the `gvisor` level), or undefined when runsc is not installed.
   * Whether gVisor can create sandboxes here at all is `LocalProvider.isolationLevels()`.
   */
  gvisor(platform: GvisorPlatform): GvisorRuntime | undefined;
  images: BaseImages;
  networks: SandboxNetworks;
  /** Host path of catatonit, the sandbox's PID 1. */
  initBinary: string;
  /** Sets up host-wide NAT/filter rules once per provider instance. */
  hostNetworkReady(): Promise<void>;
}

/** How a sandbox is run, as saved in its spec.json at create (absent = standard, made before levels existed). */
export interface SavedRuntime {
  isolation: IsolationLevel;
  /** gVisor only: the platform it was created for. */
  platform?: GvisorPlatform;
}

/**
 * The runtime of one sandbox: the one its spec names, always. A gVisor sandbox on a host
 * whose runsc is gone is an error, never a crun sandbox.
 */
export function runtimeFor(ctx: LocalContext, id: string, saved: Partial<SavedRuntime> | undefined): SandboxRuntime {
  if ((saved?.isolation ?? 'standard') === 'standard') return ctx.runtime;
  const runtime = ctx.gvisor(saved?.platform ?? 'ptrace');
  if (!runtime) {
    throw new HostNotReadyError(`sandbox ${id} is isolated with gVisor, but runsc is no longer installed on this host; install it (apt-get install -y runsc) — it is never run with crun instead`);
  }
  return runtime;
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
