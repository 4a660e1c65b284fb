/**
 * Exposed ports of a sandbox, as the seed SDK's `pocketenv/ports` (expose and unexpose them
 * with the `network` module). Each has a `previewUrl` that reaches the port over HTTP and
 * WebSocket through the server, while the sandbox runs.
 *
 * @example
 * import { ports } from '@pocketenv/sdk';
 * for (const p of await ports.list(sb)) console.log(p.port, p.previewUrl);
 * @module
 */
import type { SandboxDefs } from '@pocketenv/lexicons';
import { decodeList } from './attachment-wire';
import type { ConnectedSandbox } from './connected';
import { DecodeError } from './errors';
import { type CallOptions, query } from './http';

/** `{port, description?, previewUrl?}` */
export type Port = SandboxDefs.PortView;

const PAGE = 100;

/**
 * Every exposed port of the sandbox, lowest first.
 * @example
 * const web = (await ports.list(sb)).find((p) => p.port === 8080);
 */
export async function list(sb: ConnectedSandbox, opts?: CallOptions): Promise<Port[]> {
  const all: Port[] = [];
  for (;;) {
    const { ports, total } = await listPage(sb, PAGE, all.length, opts);
    all.push(...ports);
    if (ports.length === 0 || all.length >= total) return all;
  }
}

/**
 * One page of the sandbox's exposed ports, lowest first, and how many there are in all.
 * @param limit 1..100 @default the server's
 * @example
 * const { ports: page, total } = await ports.listPage(sb, 10, 0);
 */
export async function listPage(sb: ConnectedSandbox, limit?: number, offset?: number, opts?: CallOptions): Promise<{ ports: Port[]; total: number }> {
  const body = await query(sb.client, 'io.pocketenv.sandbox.getExposedPorts', { id: sb.id, limit, offset }, opts);
  const { items, total } = decodeList<Port>(body, 'getExposedPorts', 'ports', []);
  for (const [i, p] of items.entries()) {
    if (typeof p.port !== 'number') throw new DecodeError(`getExposedPorts.ports[${(offset ?? 0) + i}]: field "port" should be a number`);
  }
  return { ports: items, total };
}
