import type { ConnectedSandbox } from '../connected';
import type { RequestOptions } from '../http';
import { type KeyedPage, type ListOptions, keyedPage } from '../page';
import * as services from '../services';
import type { ServiceView } from './views';

/** A service's optional settings. */
export interface ServiceSettings extends RequestOptions {
  description?: string;
  /** Ports it listens on (1025..65535); each is exposed with a preview URL. */
  ports?: number[];
}

/**
 * `sb.service`: supervised long-running commands, restarted when they exit and started with
 * every start of the sandbox.
 * @example
 * const web = await sb.service.add('web', 'node server.js', { ports: [3000] });
 * console.log((await sb.service.logs(web.id)).join('\n'));
 */
export class Services {
  readonly #sb: ConnectedSandbox;

  /** @internal use `sb.service` */
  constructor(sb: ConnectedSandbox) {
    this.#sb = sb;
  }

  /** Adds a service and starts it when the sandbox runs. @throws ConflictError when the name or a port is taken. */
  add(name: string, command: string, opts: ServiceSettings = {}): Promise<ServiceView> {
    return services.add(this.#sb, name, command, opts);
  }

  /** One page of the services, oldest first, with their status (also under `services`). */
  list(opts: ListOptions & RequestOptions = {}): Promise<KeyedPage<ServiceView, 'services'>> {
    return keyedPage('services', opts, (limit, offset, o) => services.list(this.#sb, limit, offset, o));
  }

  start(serviceId: string, opts?: RequestOptions): Promise<void> {
    return services.start(this.#sb, serviceId, opts);
  }

  stop(serviceId: string, opts?: RequestOptions): Promise<void> {
    return services.stop(this.#sb, serviceId, opts);
  }

  restart(serviceId: string, opts?: RequestOptions): Promise<void> {
    return services.restart(this.#sb, serviceId, opts);
  }

  /** Changes a service; a running one keeps its old command until restarted. */
  update(serviceId: string, name: string, command: string, opts: ServiceSettings = {}): Promise<void> {
    const { description, ports, ...call } = opts;
    return services.update(this.#sb, serviceId, { name, command, description, ports }, call);
  }

  delete(serviceId: string, opts?: RequestOptions): Promise<void> {
    return services.delete(this.#sb, serviceId, opts);
  }

  /** The service's last output lines, oldest first. @param opts.lines @default 200 */
  logs(serviceId: string, opts: { lines?: number } & RequestOptions = {}): Promise<string[]> {
    return services.logs(this.#sb, serviceId, opts);
  }
}
