/**
 * io.pocketenv.service.*: add, list, update, start, stop, restart, delete, and our getServiceLogs.
 * Changes that touch a running sandbox run under its lifecycle lock, so they never interleave
 * with a start or stop of the sandbox.
 */
import type { Server } from '@atproto/xrpc-server';
import { SandboxNotRunningError } from '@pocketenv/runtime';
import type { AppContext } from '../context';
import type { SandboxRecord } from '../db/schema';
import { InvalidInputError, InvalidStateError, SandboxNotFoundError } from '../errors';
import { suggestLabel } from '../sandboxes/names';
import { authedMethod } from '../xrpc/method';
import { ownedSandbox } from '../xrpc/lookup';
import { page } from '../xrpc/pagination';
import type { ServiceRepository, ServiceRow } from './repository';
import type { ServiceRunner } from './runner';
import type { ObservedService } from './scripts';
import { toServiceView } from './view';

const SERVICE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** getServices returns every service by default, as the hosted service did. */
const SERVICES_PAGE = 100;
const DEFAULT_LOG_LINES = 200;

function checkName(name: string | undefined, field: string): void {
  if (name !== undefined && !SERVICE_NAME.test(name)) {
    throw new InvalidInputError(field, `${JSON.stringify(name)} must be 1-63 lowercase letters, digits or hyphens, starting with a letter or digit (it names the service's files in the sandbox), e.g. ${JSON.stringify(suggestLabel(name, 'web'))}`);
  }
}

/**
 * A service's ports are exposed like exposePort's, which takes 1025..65535 (as on the hosted
 * service; 1024 is VS Code's). The lexicon lets any port through so that this message, which
 * says what to do, is the one a client sees.
 */
const MIN_SERVICE_PORT = 1025;

function checkPorts(ports: number[] | undefined, field: string): void {
  const seen = new Set<number>();
  for (const port of ports ?? []) {
    if (port < MIN_SERVICE_PORT) {
      throw new InvalidInputError(
        field,
        `port ${port} is below ${MIN_SERVICE_PORT}: a service's ports are exposed as preview URLs, which take ports ${MIN_SERVICE_PORT}..65535 (as exposePort does; 1024 is VS Code's); have the service listen on a port of at least ${MIN_SERVICE_PORT}, e.g. 8080`,
      );
    }
    if (seen.has(port)) throw new InvalidInputError(field, `port ${port} is listed twice`);
    seen.add(port);
  }
}

export function registerServiceMethods(server: Server, ctx: AppContext, services: ServiceRepository, runner: ServiceRunner): void {
  /** Runs `fn` under the sandbox's lifecycle lock with its fresh record. */
  const locked = <T>(sandbox: SandboxRecord, fn: (fresh: SandboxRecord) => Promise<T>): Promise<T> =>
    ctx.orchestrator.withLock(sandbox.id, async () => {
      const fresh = await ctx.sandboxes.findById(sandbox.id);
      if (!fresh) throw new SandboxNotFoundError(sandbox.name);
      return fn(fresh);
    });

  const requireRunning = (sandbox: SandboxRecord, what: string) => {
    if (sandbox.status !== 'RUNNING') throw new InvalidStateError(`sandbox ${sandbox.name} is ${sandbox.status}, not RUNNING; ${what}`);
  };

  /** Views with the supervisors' state (one exec for all); a sandbox found not running shows them STOPPED. */
  const views = async (sandbox: SandboxRecord, rows: ServiceRow[]) => {
    let observed = new Map<string, ObservedService>();
    let effective = sandbox;
    if (sandbox.status === 'RUNNING' && rows.length > 0) {
      try {
        observed = await runner.observe(sandbox, rows.map((r) => r.id));
      } catch (err) {
        if (!(err instanceof SandboxNotRunningError)) throw err;
        effective = { ...sandbox, status: 'STOPPED' };
      }
    }
    return rows.map((row) => toServiceView(effective, row, observed.get(row.id)));
  };

  authedMethod(server, ctx, 'io.pocketenv.service.addService', async ({ actor, params, input }) => {
    const sandbox = await ownedSandbox(ctx, actor, params.sandboxId);
    const { name, command, description, ports = [] } = input.service;
    checkName(name, 'service.name');
    checkPorts(ports, 'service.ports');
    return locked(sandbox, async (fresh) => {
      const row = await services.insert(fresh.id, { name, command, description, ports });
      ctx.log.info('service.added', { sandbox: fresh.id, service: row.id });
      if (fresh.status === 'RUNNING') await runner.launch(fresh, [row]);
      const [view] = await views(fresh, [row]);
      return { service: view! };
    });
  });

  authedMethod(server, ctx, 'io.pocketenv.service.getServices', async ({ actor, params }) => {
    const sandbox = await ownedSandbox(ctx, actor, params.sandboxId);
    const { rows, total } = await services.list(sandbox.id, page(params, SERVICES_PAGE));
    return { services: await views(sandbox, rows), total };
  });

  authedMethod(server, ctx, 'io.pocketenv.service.updateService', async ({ actor, params, input }) => {
    const { service } = await services.findOwned(actor.id, params.serviceId);
    checkName(input.service.name, 'service.name');
    checkPorts(input.service.ports, 'service.ports');
    // A running service keeps its command until it is restarted (restartService).
    await services.update(service, input.service);
    return {};
  });

  authedMethod(server, ctx, 'io.pocketenv.service.startService', async ({ actor, params }) => {
    const { service, sandbox } = await services.findOwned(actor.id, params.serviceId);
    await locked(sandbox, async (fresh) => {
      requireRunning(fresh, 'start the sandbox (it starts its services)');
      await services.setDesired([service.id], 'running');
      await runner.launch(fresh, [(await services.get(service.id))!]); // a no-op when it is already supervised
    });
    return {};
  });

  authedMethod(server, ctx, 'io.pocketenv.service.stopService', async ({ actor, params }) => {
    const { service, sandbox } = await services.findOwned(actor.id, params.serviceId);
    await locked(sandbox, async (fresh) => {
      await services.setDesired([service.id], 'stopped');
      if (fresh.status === 'RUNNING') await runner.stop(fresh, [service.id]);
    });
    return {};
  });

  authedMethod(server, ctx, 'io.pocketenv.service.restartService', async ({ actor, params }) => {
    const { service, sandbox } = await services.findOwned(actor.id, params.serviceId);
    await locked(sandbox, async (fresh) => {
      requireRunning(fresh, 'start the sandbox (it starts its services)');
      await runner.stop(fresh, [service.id]);
      await services.setDesired([service.id], 'running');
      await runner.launch(fresh, [(await services.get(service.id))!]);
    });
    return {};
  });

  authedMethod(server, ctx, 'io.pocketenv.service.deleteService', async ({ actor, params }) => {
    const { service, sandbox } = await services.findOwned(actor.id, params.serviceId);
    await locked(sandbox, async (fresh) => {
      if (fresh.status === 'RUNNING') await runner.remove(fresh, [service.id]);
      await services.remove(service.id);
      ctx.log.info('service.deleted', { sandbox: fresh.id, service: service.id });
    });
    return {};
  });

  authedMethod(server, ctx, 'io.pocketenv.service.getServiceLogs', async ({ actor, params }) => {
    const { service, sandbox } = await services.findOwned(actor.id, params.serviceId);
    requireRunning(sandbox, 'the logs are kept inside the sandbox: start it to read them');
    return { lines: await runner.logs(sandbox, service.id, params.lines ?? DEFAULT_LOG_LINES) };
  });
}
