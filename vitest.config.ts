import { defineConfig } from 'vitest/config';

// Workspace packages export their compiled dist by default; tests run the TypeScript sources
// (the "source" export condition), so they need no build. The CLI and server-process tests run
// the compiled files on purpose (see packages/cli/test/run-cli.ts): the global setup builds them
// when the sources changed.
const conditions = ['source', 'module', 'node', 'development|production']; // vite's server defaults, after ours

// Sandboxes are real (namespaces, overlayfs, cgroups): tests are slow-ish and share
// one 2-core machine, so files run in at most two workers and get generous timeouts.
export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/*.case.test.ts'],
    globalSetup: ['./scripts/vitest-build.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    maxWorkers: 2,
    pool: 'forks',
  },
});
