/**
 * The warm pool feature (see ./pool.ts): POCKETENV_POOL_SIZE prepared sandboxes per base,
 * handed out by createSandbox. Size 0 disables it.
 */
import type { Feature } from '../features';
import { resolveResources } from '../sandboxes/resources';
import { SandboxPool } from './pool';

export const warmPoolFeature: Feature = {
  name: 'pool',
  start(ctx) {
    const config = ctx.config.pool;
    if (config.size === 0) return;
    // Pooled sandboxes get what a create without explicit resources gets.
    const pool = new SandboxPool(ctx.providers.all(), config, resolveResources({}), ctx.log);
    ctx.orchestrator.setPool(pool);
    pool.start();
    return {
      stop: async () => {
        ctx.orchestrator.setPool(undefined);
        await pool.stop();
      },
    };
  },
};
