import type { ConnectedSandbox } from '../connected';
import type { RequestOptions } from '../http';
import { type ListOptions, Page } from '../page';
import * as ports from '../ports';
import type { PortView } from './views';

/**
 * `sb.ports`: the sandbox's exposed ports and their preview URLs (expose them with
 * `sb.expose`).
 * @example
 * const exposed = await sb.ports.list();
 * console.log(exposed.map((p) => `${p.port} → ${p.previewUrl}`));
 */
export class Ports {
  readonly #sb: ConnectedSandbox;

  /** @internal use `sb.ports` */
  constructor(sb: ConnectedSandbox) {
    this.#sb = sb;
  }

  /** One page of exposed ports, lowest first (it reads like the array the official SDK returns). */
  list(opts: ListOptions & RequestOptions = {}): Promise<Page<PortView>> {
    return Page.load(async ({ limit, offset }, o) => {
      const page = await ports.listPage(this.#sb, limit, offset, o);
      return { items: page.ports, total: page.total };
    }, opts);
  }
}
