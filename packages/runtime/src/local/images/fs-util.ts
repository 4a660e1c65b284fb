/** Filesystem helpers that are careful around mount points inside build dirs. */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Mount points at or below `dir`, deepest first (from /proc/self/mountinfo). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const prefix = dir.endsWith('/') ? dir : dir + '/';
  return info
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((mp): mp is string => !!mp)
    .map((mp) => mp.replace(/\\(\d{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))))
    .filter((mp) => mp === dir || mp.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}

/**
 * Removes a build directory. A crashed derived build may have left an overlay
 * mounted inside it whose lower layers are real images: unmount first, and never
 * cross into another filesystem while deleting.
 */
export async function removeTree(dir: string): Promise<void> {
  for (const mp of await mountsUnder(dir)) {
    await exec('umount', [mp]).catch(() => exec('umount', ['-l', mp]));
  }
  await exec('rm', ['-rf', '--one-file-system', '--', dir]);
}

/** Disk usage in bytes (`du -sb`), or undefined when du fails. */
export async function diskUsage(dir: string): Promise<number | undefined> {
  try {
    const { stdout } = await exec('du', ['-sb', dir]);
    return Number(stdout.split('\t')[0]);
  } catch {
    return undefined;
  }
}
