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

/**
 * `memory` is in GiB, but the hosted JS SDK's README builds `.memory(4096)` meaning MiB. A value
 * from this one up that the host cannot give in GiB (no sandbox gets a TiB here) can only mean
 * MiB, so it is read so, rounded up to whole GiB; a value the host can give is always GiB.
 */
export const MEMORY_MIB_FROM = 1024;

export function resolveResources(req: RequestedResources): Resources {
  const hostCpus = os.cpus().length;
  const hostMemGiB = Math.floor(os.totalmem() / 1024 ** 3);
  const vcpus = req.vcpus ?? Math.min(DEFAULT_RESOURCES.vcpus, hostCpus);
  const asMiB = req.memory !== undefined && req.memory >= MEMORY_MIB_FROM && req.memory > hostMemGiB;
  const memoryGiB = req.memory === undefined ? Math.min(DEFAULT_RESOURCES.memoryGiB, Math.max(1, hostMemGiB)) : asMiB ? Math.ceil(req.memory / 1024) : req.memory;
  const diskGiB = req.disk ?? DEFAULT_RESOURCES.diskGiB;

  if (!Number.isInteger(vcpus) || vcpus < 1) throw new InvalidInputError('vcpus', 'vcpus must be an integer of at least 1');
  if (vcpus > hostCpus) throw new InvalidInputError('vcpus', `vcpus ${vcpus} is more than this server's ${hostCpus} CPUs: ask for at most ${hostCpus}`);
  if (!Number.isInteger(memoryGiB) || memoryGiB < 1) throw new InvalidInputError('memory', 'memory must be an integer number of GiB, at least 1');
  if (memoryGiB > hostMemGiB) {
    const asked = asMiB ? `memory ${req.memory} (read as MiB: ${memoryGiB} GiB)` : `memory ${memoryGiB} GiB`;
    throw new InvalidInputError('memory', `${asked} is more than this server's ${hostMemGiB} GiB: ask for at most ${hostMemGiB} (memory is in GiB: 4 means 4 GiB)`);
  }
  if (!Number.isInteger(diskGiB) || diskGiB < MIN_DISK_GIB) throw new InvalidInputError('disk', `disk must be an integer number of GiB, at least ${MIN_DISK_GIB}`);
  return { vcpus, memoryGiB, diskGiB, pids: DEFAULT_RESOURCES.pids };
}
