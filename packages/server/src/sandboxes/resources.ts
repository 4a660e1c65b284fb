/**
 * Sandbox resources. Defaults suit a small host (the reference machine has 2 cores):
 * 1 vCPU, 2 GiB memory, 3 GiB disk, 1024 processes. Requests above what the host has are
 * refused up front instead of failing inside the provider.
 */
import os from 'node:os';
import type { Resources } from '@pocketenv/runtime';
import { InvalidInputError } from '../errors';

export const DEFAULT_RESOURCES: Resources = { vcpus: 1, memoryGiB: 2, diskGiB: 3, pids: 1024 };
/** The wire contract's minimum disk (hosted clients already send ≥3). */
export const MIN_DISK_GIB = 3;

export interface RequestedResources {
  vcpus?: number;
  memory?: number;
  disk?: number;
}

export function resolveResources(req: RequestedResources): Resources {
  const hostCpus = os.cpus().length;
  const hostMemGiB = Math.floor(os.totalmem() / 1024 ** 3);
  const vcpus = req.vcpus ?? Math.min(DEFAULT_RESOURCES.vcpus, hostCpus);
  const memoryGiB = req.memory ?? Math.min(DEFAULT_RESOURCES.memoryGiB, Math.max(1, hostMemGiB));
  const diskGiB = req.disk ?? DEFAULT_RESOURCES.diskGiB;

  if (!Number.isInteger(vcpus) || vcpus < 1) throw new InvalidInputError('vcpus', 'vcpus must be an integer of at least 1');
  if (vcpus > hostCpus) throw new InvalidInputError('vcpus', `vcpus must be at most ${hostCpus} on this server`);
  if (!Number.isInteger(memoryGiB) || memoryGiB < 1) throw new InvalidInputError('memory', 'memory must be an integer number of GiB, at least 1');
  if (memoryGiB > hostMemGiB) throw new InvalidInputError('memory', `memory must be at most ${hostMemGiB} GiB on this server`);
  if (!Number.isInteger(diskGiB) || diskGiB < MIN_DISK_GIB) throw new InvalidInputError('disk', `disk must be an integer number of GiB, at least ${MIN_DISK_GIB}`);
  return { vcpus, memoryGiB, diskGiB, pids: DEFAULT_RESOURCES.pids };
}
