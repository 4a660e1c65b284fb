import type { ConnectedSandbox } from '../connected';
import type { RequestOptions } from '../http';
import * as tailscale from '../tailscale';
import type { TailscaleAuthKeyView } from './views';

/**
 * `sb.tailscale`: the auth key `tailscale up` gets at every start (sealed here; read back masked).
 * Any one-word key is taken (a Tailscale `tskey-…` or a Headscale pre-auth key).
 */
export class Tailscale {
  readonly #sb: ConnectedSandbox;

  /** @internal use `sb.tailscale` */
  constructor(sb: ConnectedSandbox) {
    this.#sb = sb;
  }

  /** The key (masked) and what happened when it was last applied; `null` when none is set. */
  getAuthKey(opts?: RequestOptions): Promise<TailscaleAuthKeyView | null> {
    return tailscale.getAuthKey(this.#sb, opts);
  }

  setAuthKey(authKey: string, opts?: RequestOptions): Promise<void> {
    return tailscale.setAuthKey(this.#sb, authKey, opts);
  }
}
