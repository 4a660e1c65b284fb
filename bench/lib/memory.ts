/** Memory of sandboxes (cgroup v1 memory controller) and of the host. */
import { readFileSync } from 'node:fs';

const CGROUP_MEMORY = '/sys/fs/cgroup/memory/pocketenv';

/** A sandbox's cgroup memory: `usage` (memory.usage_in_bytes: anon + page cache charged to it) and `rss` (anon only), MiB. */
export function sandboxMemoryMiB(id: string): { usage: number; rss: number } | undefined {
  try {
    const usage = Number(readFileSync(`${CGROUP_MEMORY}/${id}/memory.usage_in_bytes`, 'utf8'));
    const stat = readFileSync(`${CGROUP_MEMORY}/${id}/memory.stat`, 'utf8');
    const rss = Number(/^total_rss (\d+)$/m.exec(stat)?.[1] ?? /^rss (\d+)$/m.exec(stat)?.[1] ?? 0);
    return { usage: usage / 2 ** 20, rss: rss / 2 ** 20 };
  } catch {
    return undefined;
  }
}

export function memAvailableMiB(): number {
  return Number(/MemAvailable:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) / 1024;
}
