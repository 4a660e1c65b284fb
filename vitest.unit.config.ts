import { defineConfig } from 'vitest/config';

// The fast tier (`npm run test:unit`): pure unit tests, the lexicons, and the server, SDK and
// CLI against the fake provider. Needs no root, no base images and no Debian; a minute at most
// on a laptop. Every file here also runs in the full suite (vitest.config.ts), once.
// Tests run the sources (the "source" export condition); the CLI tests run the compiled CLI,
// which the global setup builds when the sources changed (as in vitest.config.ts).
const conditions = ['source', 'module', 'node', 'development|production'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['packages/*/test/**/*.unit.test.ts', 'packages/lexicons/test/**/*.test.ts', 'packages/runtime/test/fake.*.test.ts'],
    exclude: ['**/node_modules/**'],
    globalSetup: ['./scripts/vitest-build.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The tests mostly wait on child processes and sockets: one worker per core, even on two.
    maxWorkers: '100%',
  },
});
