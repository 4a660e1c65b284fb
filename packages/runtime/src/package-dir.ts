/**
 * Where a package's non-TypeScript files (templates, scripts) are found at run time. Code runs
 * from `src/…` (tests) and from the compiled `dist/` bundle chunks (everything else), at
 * different depths, so a path relative to the module would be right in only one of them; the
 * package's root (the nearest directory above the module with a package.json) is the same in both.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The root directory of the package that holds the module at `moduleUrl` (pass `import.meta.url`). */
export function packageDirOf(moduleUrl: string): string {
  const start = dirname(fileURLToPath(moduleUrl));
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}
