/**
 * The sandbox's SSH key pair, as the seed SDK's `pocketenv/sshkeys`: installed for the sandbox's
 * root user (`/root/.ssh/id_ed25519`, 0600, and `.pub`, with known_hosts for github.com,
 * gitlab.com and bitbucket.org) at every start and at once when it is running. The private key
 * is sealed here; reads return only a masked copy.
 *
 * @example
 * import { sshkeys } from '@pocketenv/sdk';
 * const pair = sshkeys.generate('me@laptop');
 * await sshkeys.put(sb, pair);
 * console.log(pair.publicKey); // add it to your git host
 * @module
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { decodeRecord } from './attachment-wire';
import type { ConnectedSandbox } from './connected';
import { redactPrivateKey, sealFor } from './crypto';
import { NotFoundError, SandboxNotFoundError } from './errors';
import { type CallOptions, procedure, query } from './http';

/** What the server returns: the masked private key (never the key), the public key, when it was put. */
export interface SshKeys {
  /** Sandbox id. */
  id: string;
  /** The masked copy (the server never returns the key). */
  privateKey: string;
  publicKey: string;
  redacted?: string;
  createdAt: string;
}

/** A key pair in OpenSSH formats. */
export interface SshKeyPair {
  /** PEM (`-----BEGIN OPENSSH PRIVATE KEY-----` or any PEM private key OpenSSH reads). */
  privateKey: string;
  /** One OpenSSH public key line: `ssh-ed25519 AAAA… comment`. */
  publicKey: string;
}

/**
 * The sandbox's keys (masked), or `null` when it has none.
 * @example
 * const keys = await sshkeys.get(sb);
 * if (keys) console.log(keys.publicKey);
 */
export async function get(sb: ConnectedSandbox, opts?: CallOptions): Promise<SshKeys | null> {
  try {
    return decodeRecord<SshKeys>(await query(sb.client, 'io.pocketenv.sandbox.getSshKeys', { id: sb.id }, opts), 'getSshKeys', ['id', 'privateKey', 'publicKey', 'createdAt']);
  } catch (error) {
    if (error instanceof NotFoundError && !(error instanceof SandboxNotFoundError)) return null;
    throw error;
  }
}

/**
 * Replaces the sandbox's key pair: the private key is sealed and masked here.
 * @throws InvalidRequestError when the private key is not PEM or the public key not an OpenSSH line.
 * @example
 * await sshkeys.put(sb, { privateKey: fs.readFileSync('id_ed25519', 'utf8'), publicKey: fs.readFileSync('id_ed25519.pub', 'utf8') });
 */
export async function put(sb: ConnectedSandbox, pair: SshKeyPair, opts?: CallOptions): Promise<void> {
  const body = {
    id: sb.id,
    privateKey: await sealFor(sb.client, pair.privateKey, opts),
    publicKey: pair.publicKey.trim(),
    redacted: redactPrivateKey(pair.privateKey),
  };
  await procedure(sb.client, 'io.pocketenv.sandbox.putSshKeys', {}, body, opts);
}

/**
 * Makes a new Ed25519 key pair locally, in OpenSSH's own formats (an unencrypted
 * `openssh-key-v1` private key, as `ssh-keygen -t ed25519 -N ''` writes).
 * @param comment The public key's comment. @default 'user@pocketenv'
 * @example
 * const { privateKey, publicKey } = sshkeys.generate();
 */
export function generate(comment = 'user@pocketenv'): SshKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const type = Buffer.from('ssh-ed25519');
  const publicBlob = Buffer.concat([sshString(type), sshString(pub)]);

  const check = randomBytes(4);
  let secret = Buffer.concat([check, check, sshString(type), sshString(pub), sshString(Buffer.concat([seed, pub])), sshString(Buffer.from(comment))]);
  // Padded to the cipher's block size (8 for "none") with 1, 2, 3, …
  const padding = (8 - (secret.length % 8)) % 8;
  secret = Buffer.concat([secret, Buffer.from(Array.from({ length: padding }, (_, i) => i + 1))]);

  const none = Buffer.from('none');
  const key = Buffer.concat([Buffer.from('openssh-key-v1\0'), sshString(none), sshString(none), sshString(Buffer.alloc(0)), uint32(1), sshString(publicBlob), sshString(secret)]);
  const lines = key.toString('base64').match(/.{1,70}/g)!;
  return {
    privateKey: ['-----BEGIN OPENSSH PRIVATE KEY-----', ...lines, '-----END OPENSSH PRIVATE KEY-----', ''].join('\n'),
    publicKey: `ssh-ed25519 ${publicBlob.toString('base64')} ${comment}`,
  };
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** SSH wire `string`: a 4-byte big-endian length, then the bytes. */
function sshString(bytes: Buffer): Buffer {
  return Buffer.concat([uint32(bytes.length), bytes]);
}
