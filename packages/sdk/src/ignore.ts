/**
 * Which files an upload leaves out: `.gitignore`, `.npmignore`, `.dockerignore` and
 * `.pocketenvignore`, in the source directory and in any directory below it.
 *
 * All four are read with `.gitignore` rules (as the hosted clients do), and each applies to
 * the directory it sits in and everything below it, with git's precedence:
 * - a pattern without a slash (`*.log`, `node_modules`) matches at any depth below its file;
 * - a leading or middle slash anchors it to the file's directory (`/build` is only
 *   `<dir>/build`, not `<dir>/src/build`); a trailing slash matches directories only;
 * - within a directory the files are read in the order above, so `.pocketenvignore` comes
 *   last and has the last word (`!dist/` in it brings back what `.gitignore` dropped);
 * - a deeper file overrides a shallower one (a nested `!keep.log` re-includes a file), but
 *   nothing inside an excluded directory can be brought back (the walk never enters it).
 * Ignore files themselves are packed like any other file unless a pattern excludes them.
 * @module
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Ignore } from 'ignore';

/** The ignore files, in the order their patterns are applied within one directory. */
export const IGNORE_FILES = ['.gitignore', '.npmignore', '.dockerignore', '.pocketenvignore'] as const;

/** Answers "is this path (relative to the root, `/`-separated) left out?", reading ignore files as it goes. */
export interface IgnoreMatcher {
  isIgnored(relativePath: string, isDirectory: boolean): Promise<boolean>;
}

/**
 * A matcher for the tree under `root`. Ignore files are read lazily, once per directory.
 * @example
 * const m = createIgnoreMatcher('./project');
 * await m.isIgnored('node_modules', true); // true when a .gitignore says so
 */
export function createIgnoreMatcher(root: string): IgnoreMatcher {
  const rulesByDir = new Map<string, Promise<Ignore | undefined>>();
  const rulesOf = (dir: string): Promise<Ignore | undefined> => {
    let rules = rulesByDir.get(dir);
    if (!rules) {
      rules = loadRules(path.join(root, dir));
      rulesByDir.set(dir, rules);
    }
    return rules;
  };

  return {
    async isIgnored(relativePath, isDirectory) {
      const parts = relativePath.split('/');
      let ignored = false;
      // From the root down to the path's own directory: deeper files override shallower ones.
      for (let depth = 0; depth < parts.length; depth++) {
        const rules = await rulesOf(parts.slice(0, depth).join('/'));
        if (!rules) continue;
        const rest = parts.slice(depth).join('/') + (isDirectory ? '/' : '');
        const result = rules.test(rest);
        if (result.ignored) ignored = true;
        else if (result.unignored) ignored = false;
      }
      return ignored;
    },
  };
}

async function loadRules(dir: string): Promise<Ignore | undefined> {
  let rules: Ignore | undefined;
  for (const name of IGNORE_FILES) {
    const text = await readFile(path.join(dir, name), 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR' || err.code === 'EISDIR') return undefined;
      throw err;
    });
    if (text === undefined) continue;
    // Loaded only when there is an ignore file to parse.
    rules ??= (await import('ignore')).default();
    rules.add(text);
  }
  return rules;
}
