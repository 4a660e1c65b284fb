import type { ConnectedSandbox } from '../connected';
import * as env from '../env';
import type { RequestOptions } from '../http';
import { type KeyedPage, type ListOptions, keyedPage } from '../page';
import type { VariableView } from './views';

/**
 * `sb.env`: the sandbox's plaintext environment variables, seen by every later command,
 * terminal and service. A name is unique per sandbox: `put` on a taken name changes its value.
 * @example
 * await sb.env.put('NODE_ENV', 'production');
 * const { variables, total } = await sb.env.list();
 */
export class Env {
  readonly #sb: ConnectedSandbox;

  /** @internal use `sb.env` */
  constructor(sb: ConnectedSandbox) {
    this.#sb = sb;
  }

  /** Adds a variable, or changes the value of the one with that name. */
  put(name: string, value: string, opts?: RequestOptions): Promise<VariableView> {
    return env.put(this.#sb, name, value, opts);
  }

  /** One page of the variables, newest first (also under `variables`). */
  list(opts: ListOptions & RequestOptions = {}): Promise<KeyedPage<VariableView, 'variables'>> {
    return keyedPage('variables', opts, (limit, offset, o) => env.list(this.#sb, limit, offset, o));
  }

  /** @throws NotFoundError when the sandbox has no variable with this id. */
  get(id: string, opts?: RequestOptions): Promise<VariableView> {
    return env.get(this.#sb, id, opts);
  }

  /** Renames a variable and sets its value. */
  update(id: string, name: string, value: string, opts?: RequestOptions): Promise<void> {
    return env.update(this.#sb, id, { name, value }, opts);
  }

  delete(id: string, opts?: RequestOptions): Promise<void> {
    return env.delete(this.#sb, id, opts);
  }
}
