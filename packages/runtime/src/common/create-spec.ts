/** Checks on what a caller hands `create`, the same for every provider. */
import { ProviderError } from '../provider/errors';
import type { CreateSpec } from '../provider/types';

/** Ids name host objects (containers, cgroups, veths, directories), so they are kept to a safe alphabet. */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

export function assertValidId(id: string): void {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new ProviderError(`invalid sandbox id ${JSON.stringify(id)}: use 1-63 letters, digits, '_' or '-'`);
  }
}

/** RFC 1123 label: what `sethostname` and every resolver accept. */
const HOSTNAME_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export function assertValidHostname(hostname: string): void {
  if (typeof hostname !== 'string' || !HOSTNAME_PATTERN.test(hostname)) {
    throw new ProviderError(`invalid hostname ${JSON.stringify(hostname)}: use 1-63 letters, digits or '-'`);
  }
}

export function assertResources(spec: CreateSpec): void {
  const r = spec.resources;
  for (const key of ['vcpus', 'memoryGiB', 'diskGiB', 'pids'] as const) {
    if (typeof r?.[key] !== 'number' || !Number.isFinite(r[key]) || r[key] <= 0) {
      throw new ProviderError(`invalid resources.${key}: ${JSON.stringify(r?.[key])} (must be a positive number)`);
    }
  }
}
