/**
 * Where a fake sandbox lives on the host, and how its paths map:
 *
 *   <stateDir>/driver.lock                 the process driving this dir (one at a time)
 *   <stateDir>/sandboxes/<id>/root/        the sandbox's "/": workspace/, root/ (HOME), tmp/ (TMPDIR)
 *   <stateDir>/sandboxes/<id>/tty/         short-lived terminal launchers (0700)
 *
 * A sandbox path `/x/y` given to the PROVIDER (files, cwd, volume mount points) means
 * `<root>/x/y`, resolved with the same safe-path rules as the local provider (symlinks are
 * followed inside the root, `..` is refused). The COMMANDS see the host's real filesystem:
 * `cat /etc/hostname` reads the host's file, and `pwd` prints `<root>/workspace`.
 */
import { realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { PathEscapeError } from '../provider/errors';
import { sandboxPathComponents } from '../shared/safe-path';

export class FakeTree {
  readonly sandboxes: string;
  readonly lock: string;

  constructor(readonly stateDir: string) {
    this.sandboxes = join(stateDir, 'sandboxes');
    this.lock = join(stateDir, 'driver.lock');
  }

  dir(id: string): string {
    return join(this.sandboxes, id);
  }

  root(id: string): string {
    return join(this.dir(id), 'root');
  }

  ttyDir(id: string): string {
    return join(this.dir(id), 'tty');
  }
}

/** Directories every sandbox starts with (relative to its root). */
export const SEED_DIRS = ['workspace', 'root', 'tmp'] as const;

function inside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/**
 * The host directory for a working directory the caller names inside the sandbox. It may not
 * exist (the command then fails with 126, as in a real sandbox); when it exists, it must
 * resolve inside the root or one of the volume directories (a symlink out is refused).
 */
export async function hostCwd(root: string, cwd: string, volumeDirs: string[]): Promise<string> {
  const host = cwd === '/' ? root : join(root, ...sandboxPathComponents(cwd));
  const real = await realpath(host).catch(() => undefined);
  if (real === undefined) return host;
  const allowed = await Promise.all([root, ...volumeDirs].map((d) => realpath(d).catch(() => d)));
  if (!allowed.some((dir) => inside(real, dir))) throw new PathEscapeError(cwd, 'the working directory leads outside the sandbox');
  return real;
}
