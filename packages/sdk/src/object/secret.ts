import type { ConnectedSandbox } from '../connected';
import type { RequestOptions } from '../http';
import { type KeyedPage, type ListOptions, keyedPage } from '../page';
import * as secrets from '../secrets';
import type { SecretView } from './views';

/**
 * `sb.secret`: variables whose values are sealed here to the server's key (by `put` and
 * `update` alike) and never returned by the server.
 * @example
 * await sb.secret.put('API_KEY', process.env.API_KEY!);
 * const { secrets } = await sb.secret.list(); // names, never values
 */
export class Secrets {
  readonly #sb: ConnectedSandbox;

  /** @internal use `sb.secret` */
  constructor(sb: ConnectedSandbox) {
    this.#sb = sb;
  }

  /** Seals `value` and adds the secret, or replaces the value of the one with that name. */
  put(name: string, value: string, opts?: RequestOptions): Promise<SecretView> {
    return secrets.put(this.#sb, name, value, opts);
  }

  /** One page of the secrets (names only), newest first (also under `secrets`). */
  list(opts: ListOptions & RequestOptions = {}): Promise<KeyedPage<SecretView, 'secrets'>> {
    return keyedPage('secrets', opts, (limit, offset, o) => secrets.list(this.#sb, limit, offset, o));
  }

  get(id: string, opts?: RequestOptions): Promise<SecretView> {
    return secrets.get(this.#sb, id, opts);
  }

  /** Renames a secret and replaces its value (sealed here, unlike the official SDK's update). */
  update(id: string, name: string, value: string, opts?: RequestOptions): Promise<void> {
    return secrets.update(this.#sb, id, { name, value }, opts);
  }

  delete(id: string, opts?: RequestOptions): Promise<void> {
    return secrets.delete(this.#sb, id, opts);
  }
}
