/**
 * Sealed values (secrets, file contents, SSH private keys, Tailscale keys): libsodium sealed
 * boxes to the server's public key, base64url. The server opens one only to check it on the way
 * in (a value that does not open is a 400 naming the field) and to put it into a sandbox; the
 * plaintext is never stored, logged or returned.
 */
import type { BoxKeyPair } from '../keys';
import { openSealed } from '../keys';
import { InvalidInputError, InvalidStateError } from '../errors';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The canonical form we store: base64url without padding. Standard base64 and padding are
 * accepted too (they encode the same bytes), so a client that pads is not refused for nothing.
 */
export function canonicalSealed(value: string): string {
  return value.trim().replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

/** Opens a sealed value sent in `field`; 400 when it is not a sealed box for this server. */
export async function openSealedInput(keys: BoxKeyPair, field: string, sealed: string): Promise<{ sealed: string; plain: Uint8Array }> {
  const canonical = canonicalSealed(sealed);
  try {
    return { sealed: canonical, plain: await openSealed(keys, canonical) };
  } catch {
    throw new InvalidInputError(
      field,
      "is not a sealed box for this server: seal it with libsodium's crypto_box_seal to the publicKey from io.pocketenv.server.describeServer, then encode it as base64url",
    );
  }
}

/** Like {@link openSealedInput}, for values that must be text (secrets, keys). */
export async function openSealedText(keys: BoxKeyPair, field: string, sealed: string): Promise<{ sealed: string; text: string }> {
  const opened = await openSealedInput(keys, field, sealed);
  let text: string;
  try {
    text = utf8.decode(opened.plain);
  } catch {
    throw new InvalidInputError(field, 'the sealed value is not UTF-8 text');
  }
  return { sealed: opened.sealed, text };
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
