import type { ConnectedSandbox } from '../connected';
import type { RequestOptions } from '../http';
import * as sshkeys from '../sshkeys';
import type { SSHKeyPair, SshKeysView } from './views';

/**
 * A new Ed25519 key pair in OpenSSH's formats, made locally (nothing is sent).
 * @example
 * const { publicKey, privateKey } = await generateEd25519SSHKeyPair('me@laptop');
 */
export async function generateEd25519SSHKeyPair(comment?: string): Promise<SSHKeyPair> {
  return sshkeys.generate(comment);
}

/**
 * `sb.sshKeys`: the sandbox's SSH key pair (root's `~/.ssh/id_ed25519`), the private key sealed
 * here and read back masked.
 * @example
 * const pair = await sb.sshKeys.generate();
 * await sb.sshKeys.put(pair.publicKey, pair.privateKey);
 */
export class SshKeys {
  readonly #sb: ConnectedSandbox;

  /** @internal use `sb.sshKeys` */
  constructor(sb: ConnectedSandbox) {
    this.#sb = sb;
  }

  /** The keys (private key masked), or `null` when the sandbox has none. */
  get(opts?: RequestOptions): Promise<SshKeysView | null> {
    return sshkeys.get(this.#sb, opts);
  }

  /** Replaces the key pair (public key first, as the official SDK takes them). */
  put(publicKey: string, privateKey: string, opts?: RequestOptions): Promise<void> {
    return sshkeys.put(this.#sb, { publicKey, privateKey }, opts);
  }

  generate(comment?: string): Promise<SSHKeyPair> {
    return generateEd25519SSHKeyPair(comment);
  }
}
