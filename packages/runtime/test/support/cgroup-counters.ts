/** Kernel counters of a sandbox's cgroups (v1 or v2), read from the host. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupLayout, controllerDir } from '../../src/local/cgroups';

function counter(file: string, key: string): number {
  const text = readFileSync(file, 'utf8');
  const m = text.match(new RegExp(`^${key}\\s+(\\d+)$`, 'm'));
  if (!m) throw new Error(`no ${key} in ${file}`);
  return Number(m[1]);
}

const v2 = () => cgroupLayout().mode === 'v2';

/** How often the kernel OOM-killed a process of the sandbox. */
export function oomKills(id: string): number {
  const dir = controllerDir('memory', id);
  return v2() ? counter(join(dir, 'memory.events'), 'oom_kill') : counter(join(dir, 'memory.oom_control'), 'oom_kill');
}

/** How often a fork failed because the sandbox hit its pids limit. */
export function pidsLimitHits(id: string): number {
  return counter(join(controllerDir('pids', id), 'pids.events'), 'max');
}

export function pidsMax(id: string): string {
  return readFileSync(join(controllerDir('pids', id), 'pids.max'), 'utf8').trim();
}

/** Periods in which the sandbox was throttled by its CPU quota. */
export function cpuThrottledPeriods(id: string): number {
  return counter(join(controllerDir('cpu', id), 'cpu.stat'), 'nr_throttled');
}

/** Memory limit in bytes. */
export function memoryLimit(id: string): number {
  const dir = controllerDir('memory', id);
  return Number(readFileSync(join(dir, v2() ? 'memory.max' : 'memory.limit_in_bytes'), 'utf8').trim());
}
