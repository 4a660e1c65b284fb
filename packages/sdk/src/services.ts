/**
 * Services, as the seed SDK's `pocketenv/services`: supervised long-running processes of a
 * sandbox. A service starts at once (when the sandbox runs) and with every start of its
 * sandbox, is restarted with back-off when it exits, and keeps its last output (`logs`).
 * Its `ports` are exposed like `network.expose` (see `ports.list` for their preview URLs).
 * `status` is RUNNING, CRASHED (exited, waiting to be restarted; see `lastExitCode`), STOPPED
 * or ERROR (not supervised any more: start or restart it).
 *
 * @example
 * import { services } from '@pocketenv/sdk';
 * const web = await services.add(sb, 'web', 'python3 -m http.server 8080', { ports: [8080] });
 * console.log((await services.logs(sb, web.id, { lines: 20 })).join('\n'));
 * @module
 */
import type { ServiceDefs } from '@pocketenv/lexicons';
import { type Reach, clientOf, decodeList, decodeWrapped, dropUndefined } from './attachment-wire';
import type { ConnectedSandbox } from './connected';
import { DecodeError } from './errors';
import { type CallOptions, procedure, query } from './http';

export type Service = ServiceDefs.ServiceView;

export interface ServicePage {
  services: Service[];
  total: number;
}

export interface ServiceOptions extends CallOptions {
  description?: string;
  /** Ports it listens on (1025..65535); each is exposed with a preview URL. */
  ports?: number[];
}

const NS = 'io.pocketenv.service';
const FIELDS = ['id', 'name', 'command', 'status', 'createdAt'] as const;

/**
 * Adds a service (`command` runs with `sh -c` in /workspace, with the sandbox's environment).
 * @throws ConflictError when the name, or one of the ports, is taken in the sandbox.
 * @example
 * const s = await services.add(sb, 'api', 'node server.js', { ports: [3000], description: 'the API' });
 */
export async function add(sb: ConnectedSandbox, name: string, command: string, opts: ServiceOptions = {}): Promise<Service> {
  const { description, ports, ...call } = opts;
  const body = await procedure(sb.client, `${NS}.addService`, { sandboxId: sb.id }, { service: dropUndefined({ name, command, description, ports }) }, call);
  return decodeWrapped<Service>(body, 'addService', 'service', FIELDS);
}

/** The seed SDK's name for {@link add}. */
export const create = add;

/**
 * The sandbox's services, oldest first, with their current status.
 * @param limit at least 1; above 100 is served as 100. @default 100 (the server's: all of them)
 * @example
 * for (const s of (await services.list(sb)).services) console.log(s.name, s.status);
 */
export async function list(sb: ConnectedSandbox, limit?: number, offset?: number, opts?: CallOptions): Promise<ServicePage> {
  const body = await query(sb.client, `${NS}.getServices`, { sandboxId: sb.id, limit, offset }, opts);
  const { items, total } = decodeList<Service>(body, 'getServices', 'services', FIELDS);
  return { services: items, total };
}

/**
 * Changes a service (absent fields are kept). A running service keeps its old command until
 * {@link restart}; new `ports` replace its exposed ports at once.
 * @example
 * await services.update(sb, s.id, { command: 'node server.js --verbose' });
 */
export async function update(target: Reach, serviceId: string, change: { name?: string; command?: string; description?: string; ports?: number[] }, opts?: CallOptions): Promise<void> {
  await procedure(clientOf(target), `${NS}.updateService`, { serviceId }, { service: dropUndefined(change) }, opts);
}

/**
 * Starts a stopped service (nothing happens when it runs). @throws InvalidRequestError when the sandbox is not running.
 * @example
 * await services.start(sb, s.id);
 */
export async function start(target: Reach, serviceId: string, opts?: CallOptions): Promise<void> {
  await procedure(clientOf(target), `${NS}.startService`, { serviceId }, {}, opts);
}

/**
 * Stops a service (TERM, then KILL after 5 s); it stays stopped until started again or its sandbox restarts.
 * @example
 * await services.stop(sb, s.id);
 */
export async function stop(target: Reach, serviceId: string, opts?: CallOptions): Promise<void> {
  await procedure(clientOf(target), `${NS}.stopService`, { serviceId }, {}, opts);
}

/**
 * Stops and starts a service (with its current command and environment).
 * @example
 * await services.restart(sb, s.id);
 */
export async function restart(target: Reach, serviceId: string, opts?: CallOptions): Promise<void> {
  await procedure(clientOf(target), `${NS}.restartService`, { serviceId }, {}, opts);
}

/**
 * Stops and removes a service, with its logs and exposed ports. Exported as `delete`.
 * @example
 * await services.delete(sb, s.id);
 */
async function del(target: Reach, serviceId: string, opts?: CallOptions): Promise<void> {
  await procedure(clientOf(target), `${NS}.deleteService`, { serviceId }, {}, opts);
}
export { del as delete };

/**
 * The last lines the service wrote (stdout and stderr together, oldest first, across restarts;
 * lines starting with `[pocketenv]` are the supervisor's). The sandbox must be running.
 * @param lines 1..10000 @default 200
 * @example
 * console.log((await services.logs(sb, s.id, { lines: 50 })).join('\n'));
 */
export async function logs(target: Reach, serviceId: string, opts: { lines?: number } & CallOptions = {}): Promise<string[]> {
  const { lines, ...call } = opts;
  const body = (await query(clientOf(target), `${NS}.getServiceLogs`, { serviceId, lines }, call)) as { lines?: unknown };
  if (!Array.isArray(body?.lines) || body.lines.some((l) => typeof l !== 'string')) {
    throw new DecodeError('getServiceLogs: field "lines" should be an array of strings');
  }
  return body.lines as string[];
}
