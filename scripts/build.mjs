#!/usr/bin/env node
/**
 * Compiles every workspace package's TypeScript into JavaScript under packages/<p>/dist, which
 * is what `./pocketenv`, `pocketenv serve` and the packages' `exports`/`bin` run (no TypeScript
 * compiler at run time). Tests run the sources through vitest's `source` export condition.
 *
 * One esbuild bundle per package: workspace and npm dependencies stay imports (they resolve at
 * run time to the other packages' dist and node_modules), and code splitting turns every
 * `await import()` into its own chunk, so a lazily loaded module costs nothing until it is used
 * (the CLI's startup depends on it). Non-TS files the code reads at run time (lexicon JSON,
 * base templates, exec-agent.pl, services/sh) stay in the package and are found from its root.
 *
 * Plain JavaScript on purpose: it runs before anything is compiled. `scripts/build.sh` calls it
 * only when sources changed. Run it directly to force a build.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

/** Output name (under dist/) → entry source, per package. Every `exports` target must be one of these. */
const ENTRIES = {
  lexicons: { index: 'src/index.ts' },
  config: { index: 'src/index.ts' },
  runtime: { index: 'src/index.ts', conformance: 'src/conformance/index.ts' },
  sdk: { index: 'src/index.ts', archive: 'src/archive.ts' },
  server: { index: 'src/index.ts', testing: 'src/testing.ts', main: 'src/main.ts' },
  cli: { index: 'src/index.ts' },
};

/**
 * The CLI starts for every command an agent runs, so its own npm dependency (commander) is
 * bundled in: one ESM file compiles in a third of the CPU time Node spends resolving and
 * wrapping CommonJS files one by one. Other packages are servers and
 * libraries, where start time matters less than keeping node_modules the single copy.
 */
const BUNDLED_DEPENDENCIES = { cli: true };
/** Bundled CommonJS code calls require() for Node's built-ins; ESM has none, so give it one. */
const REQUIRE_SHIM = "import { createRequire as __pocketenvRequire } from 'node:module'; const require = __pocketenvRequire(import.meta.url);";

async function buildPackage(name, entries) {
  const dir = join(ROOT, 'packages', name);
  const outdir = join(dir, 'dist');
  rmSync(outdir, { recursive: true, force: true });
  await build({
    absWorkingDir: dir,
    entryPoints: Object.entries(entries).map(([out, source]) => ({ out, in: source })),
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Workspace packages (and, but for the CLI, npm packages) are imported at run time, not copied in.
    ...(BUNDLED_DEPENDENCIES[name] ? { external: ['@pocketenv/*'], banner: { js: REQUIRE_SHIM } } : { packages: 'external' }),
    sourcemap: 'linked',
    // Readable stack traces and error names (class names appear in messages and logs).
    keepNames: true,
    logLevel: 'warning',
  });
  checkTargets(dir, name, entries);
}

/** Fails when package.json points at a dist file the build does not produce. */
function checkTargets(dir, name, entries) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const targets = [...Object.values(pkg.exports ?? {}).map((e) => (typeof e === 'string' ? e : e.default))];
  for (const target of targets) {
    if (!existsSync(join(dir, target))) {
      throw new Error(`packages/${name}/package.json exports ${target}, which the build did not produce (entries: ${Object.keys(entries).join(', ')})`);
    }
  }
}

const started = Date.now();
try {
  await Promise.all(Object.entries(ENTRIES).map(([name, entries]) => buildPackage(name, entries)));
} catch (err) {
  process.stderr.write(`pocketenv: build failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
process.stderr.write(`pocketenv: built ${Object.keys(ENTRIES).length} packages into packages/*/dist in ${Date.now() - started} ms\n`);
