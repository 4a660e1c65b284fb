/** io.pocketenv.sandbox.exposePort, unexposePort, getExposedPorts (owner-checked through the sandbox). */
import type { Server } from '@atproto/xrpc-server';
import type { AppContext } from '../context';
import { authedMethod } from '../xrpc/method';
import { ownedSandbox } from '../xrpc/lookup';
import { page } from '../xrpc/pagination';
import { previewUrlFor } from './preview-url';
import { deletePort, insertPorts, listPorts, newPortRow } from './repository';

/** getExposedPorts returns every port by default, as the hosted service did. */
const PORTS_PAGE = 100;

export function registerPortMethods(server: Server, ctx: AppContext): void {
  authedMethod(server, ctx, 'io.pocketenv.sandbox.exposePort', async ({ actor, params, input, req }) => {
    const record = await ownedSandbox(ctx, actor, params.id);
    const row = newPortRow(record.id, input.port, input.description ?? null);
    await insertPorts(ctx.db, [row]);
    ctx.log.info('port.exposed', { sandbox: record.id, port: row.port });
    return { previewUrl: previewUrlFor(ctx.config.preview, req, row) };
  });

  authedMethod(server, ctx, 'io.pocketenv.sandbox.unexposePort', async ({ actor, params, input }) => {
    const record = await ownedSandbox(ctx, actor, params.id);
    await deletePort(ctx.db, record.id, input.port);
    ctx.log.info('port.unexposed', { sandbox: record.id, port: input.port });
    return {};
  });

  authedMethod(server, ctx, 'io.pocketenv.sandbox.getExposedPorts', async ({ actor, params, req }) => {
    const record = await ownedSandbox(ctx, actor, params.id);
    const { rows, total } = await listPorts(ctx.db, record.id, page(params, PORTS_PAGE));
    const ports = rows.map((row) => {
      const previewUrl = previewUrlFor(ctx.config.preview, req, row);
      // `url` too: the Go SDK reads that name.
      return { port: row.port, ...(row.description !== null ? { description: row.description } : {}), previewUrl, url: previewUrl };
    });
    return { ports, total };
  });
}
