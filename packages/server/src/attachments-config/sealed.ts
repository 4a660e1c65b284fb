/**
 * Sealed values (secrets, file contents, SSH private keys, Tailscale keys) are stored only as
 * libsodium sealed boxes to the server's public key, base64url. A client sends either a box
 * sealed to that key (opened to check it) or plaintext, which the server seals with its own
 * key before storing it (./sealed-shape.ts says how the two are told apart); a box sealed to
 * another key is a 400 naming the key to use. The plaintext is never stored, logged or returned.
 */
import type { BoxKeyPair } from '../keys';
import { openSealed, publicKeyHex, sealToServer } from '../keys';
import { InvalidInputError, InvalidStateError } from '../errors';
import { sealedBoxBytes } from './sealed-shape';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The hosted service's key: the official clients' default, and the Gleam SDK's only one. */
export const HOSTED_PUBLIC_KEY = '2bf96e12d109e6948046a7803ef1696e12c11f04f20a6ce64dbd4bcd93db9341';

/** What a sealed field becomes: the box we store (base64url, no padding) and its plaintext. */
export interface AcceptedSealed {
  sealed: string;
  plain: Uint8Array;
}

/** Takes a sealed field's value: a box sealed to this server (opened), or plaintext (sealed here). */
export async function acceptSealedInput(keys: BoxKeyPair, field: string, value: string): Promise<AcceptedSealed> {
  const box = sealedBoxBytes(value);
  if (!box) {
    const plain = new TextEncoder().encode(value);
    return { sealed: await sealToServer(keys, plain), plain };
  }
  const sealed = Buffer.from(box).toString('base64url');
  try {
    return { sealed, plain: await openSealed(keys, sealed) };
  } catch {
    throw new InvalidInputError(field, wrongKeyMessage(keys));
  }
}

/** Like {@link acceptSealedInput}, for values that must be text (secrets, keys). */
export async function acceptSealedText(keys: BoxKeyPair, field: string, value: string): Promise<{ sealed: string; text: string }> {
  const accepted = await acceptSealedInput(keys, field, value);
  let text: string;
  try {
    text = utf8.decode(accepted.plain);
  } catch {
    throw new InvalidInputError(field, 'the sealed value is not UTF-8 text');
  }
  return { sealed: accepted.sealed, text };
}

function wrongKeyMessage(keys: BoxKeyPair): string {
  const short = `${HOSTED_PUBLIC_KEY.slice(0, 6)}…${HOSTED_PUBLIC_KEY.slice(-4)}`;
  return (
    `is a sealed box for another key. Seal it to this server's public key ${publicKeyHex(keys)} ` +
    `(publicKey of io.pocketenv.server.describeServer; the CLI and the Go, Elixir and Clojure SDKs read POCKETENV_PUBLIC_KEY, ` +
    `the JS SDK takes Sandbox.configure({ publicKey })), or send the value unsealed and the server seals it. ` +
    `Clients seal to the hosted service's key ${short} unless told otherwise; the Gleam SDK always does and cannot be told, ` +
    `so what it seals cannot be opened here. (Plaintext that is base64 of 48 bytes or more can look like a sealed box: seal such a value.)`
  );
}

/** Opens a value we stored earlier (to put it into a sandbox). */
export async function openStored(keys: BoxKeyPair, what: string, sealed: string): Promise<Uint8Array> {
  try {
    return await openSealed(keys, sealed);
  } catch {
    // Only possible if the server's key pair was replaced after the value was stored.
    throw new InvalidStateError(`${what} can no longer be opened with this server's key (was keys/box.json replaced?); put it again`);
  }
}

export async function openStoredText(keys: BoxKeyPair, what: string, sealed: string): Promise<string> {
  return Buffer.from(await openStored(keys, what, sealed)).toString('utf8');
}

/**
 * A masked copy for display: the first 11 and last 3 characters, `*` in between (all `*`
 * when the value is 14 characters or shorter), as the hosted clients do.
 */
export function maskValue(value: string): string {
  if (value.length <= 14) return '*'.repeat(value.length);
  return value.slice(0, 11) + '*'.repeat(value.length - 14) + value.slice(-3);
}

/**
 * A masked PEM private key: header and footer kept, the body masked except its first 10 and
 * last 5 characters, newlines written as a literal `\n` (the hosted JS SDK's format, which
 * the hosted CLI turns back into lines).
 */
export function maskPrivateKey(pem: string): string {
  const match = /^(-----BEGIN [A-Z0-9 ]+-----)\r?\n([\s\S]*?)\r?\n?(-----END [A-Z0-9 ]+-----)\s*$/.exec(pem.trim());
  if (!match) return maskValue(pem).replace(/\n/g, '\\n');
  const [, begin, body, end] = match as unknown as [string, string, string, string];
  const chars = [...body];
  const visible = chars.filter((c) => c !== '\n' && c !== '\r').length;
  let seen = 0;
  const masked = chars
    .map((c) => {
      if (c === '\n' || c === '\r') return c;
      seen++;
      return visible > 15 && (seen <= 10 || seen > visible - 5) ? c : '*';
    })
    .join('')
    .replace(/\r/g, '');
  return [begin, masked, end].join('\n').replace(/\n/g, '\\n');
}

/**
 * The client's `redacted` copy when it hides the value, else our own mask: a client may send
 * none, or (a bug, or a short key that the JS SDK leaves unchanged) one that reveals it.
 */
export function safeRedacted(clientCopy: string | undefined, plaintext: string, mask: (plain: string) => string): string {
  if (clientCopy === undefined || clientCopy.trim() === '') return mask(plaintext);
  const squash = (s: string) => s.replace(/\\n/g, '').replace(/\s+/g, '');
  const plain = squash(plaintext);
  const copy = squash(clientCopy);
  const reveals = plain.length === 0 ? false : plain.length < 8 ? copy === plain : copy.includes(plain);
  return reveals ? mask(plaintext) : clientCopy;
}
