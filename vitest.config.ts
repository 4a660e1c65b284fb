import { defineConfig } from 'vitest/config';

// Sandboxes are real (namespaces, overlayfs, cgroups): tests are slow-ish and share
// one 2-core machine, so files run in at most two workers and get generous timeouts.
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/*.case.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    maxWorkers: 2,
    pool: 'forks',
  },
});
