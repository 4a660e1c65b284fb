/**
 * Services: supervised long-running processes of a sandbox. The supervisor runs INSIDE the
 * sandbox (./sh/supervise.sh), so services keep running and restarting while the server is
 * down or restarting; the server only writes, launches, stops and reads it (./runner.ts).
 * Every service starts when its sandbox starts; a sandbox stop ends them with everything else
 * (their status is STOPPED whenever the sandbox is not RUNNING).
 */
import type { AppContext } from '../context';
import type { Feature } from '../features';
import { registerServiceMethods } from './methods';
import { ServiceRepository } from './repository';
import { ServiceRunner } from './runner';

const parts = new WeakMap<AppContext, { services: ServiceRepository; runner: ServiceRunner }>();

function partsOf(ctx: AppContext) {
  let p = parts.get(ctx);
  if (!p) {
    p = { services: new ServiceRepository(ctx.db), runner: new ServiceRunner(ctx) };
    parts.set(ctx, p);
  }
  return p;
}

export const servicesFeature: Feature = {
  name: 'services',
  registerXrpc(server, ctx) {
    const { services, runner } = partsOf(ctx);
    registerServiceMethods(server, ctx, services, runner);
  },
  hook(ctx) {
    const { services, runner } = partsOf(ctx);
    return {
      name: 'services',
      async afterStart(record) {
        const { rows } = await services.list(record.id);
        if (rows.length === 0) return;
        // A sandbox start starts all its services, also those stopped before.
        await services.setDesired(rows.map((r) => r.id), 'running');
        try {
          await runner.launch(record, rows, { boot: true });
        } catch (err) {
          // The sandbox itself is fine; the services show ERROR and can be started again.
          ctx.log.warn('services could not be launched', { sandbox: record.id, err });
        }
      },
    };
  },
};
