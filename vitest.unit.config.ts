import { defineConfig } from 'vitest/config';

// The fast tier (`npm run test:unit`): pure unit tests, the lexicons, and the server, SDK and
// CLI against the fake provider. Needs no root, no base images and no Debian; a minute at most
// on a laptop. Every file here also runs in the full suite (vitest.config.ts), once.
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.unit.test.ts', 'packages/lexicons/test/**/*.test.ts', 'packages/runtime/test/fake.*.test.ts'],
    exclude: ['**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The tests mostly wait on child processes and sockets: one worker per core, even on two.
    maxWorkers: '100%',
  },
});
