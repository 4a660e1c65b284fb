/**
 * How the server tells a sealed box from plaintext in a sealed field (secret values, file
 * contents, SSH private keys, Tailscale keys). Official clients send both there: most seal
 * (to the key they were given, by default the hosted service's), the JS SDK's createSandbox
 * secrets and secret.update and the Gleam SDK's files.write send plaintext.
 *
 * A value is taken for a sealed box when all of these hold, else it is plaintext:
 *  1. it is base64 (standard or URL-safe alphabet, padding optional) and nothing else;
 *  2. it decodes to at least 48 bytes (crypto_box_SEALBYTES: a box of the empty message);
 *  3. its first 32 bytes are an X25519 public key as key generation makes them: a canonical
 *     u-coordinate (< 2^255 - 19) of a point in the prime-order subgroup. crypto_box_seal's
 *     ephemeral key always is one (libsodium, Go, Erlang and Java clients alike).
 * Real boxes always pass. Plaintext fails rule 1 or 2 unless it is a base64-looking token of 64
 * characters or more, and such a token passes rule 3 about once in 32 (a random u is canonical
 * half the time, on the curve rather than its twist half the time, in the subgroup one time in
 * eight; measured: 3 %). That residue gets the 400 for a box that does not open, which tells
 * the caller to seal such a value itself.
 */
import { invert, mod } from '@noble/curves/abstract/modular';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils';
import { ed25519 } from '@noble/curves/ed25519';

/** crypto_box_SEALBYTES: the ephemeral public key (32) and the MAC (16). */
export const SEAL_OVERHEAD_BYTES = 48;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
const P = ed25519.Point.CURVE().p;

/** The bytes of a value shaped like a sealed box, or undefined when it is plaintext. */
export function sealedBoxBytes(value: string): Uint8Array | undefined {
  const text = value.trim();
  // 64 base64 characters carry 48 bytes: anything shorter cannot be a box.
  if (text.length < 64 || !BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (bytes.length < SEAL_OVERHEAD_BYTES || !isGeneratedX25519Key(bytes.subarray(0, 32))) return undefined;
  return bytes;
}

/**
 * Whether 32 little-endian bytes are a Montgomery u-coordinate that X25519 key generation can
 * produce. Checked on the birationally equivalent Edwards curve (y = (u - 1) / (u + 1)), where
 * @noble/curves decodes the point and tests that it has no torsion component.
 */
function isGeneratedX25519Key(u: Uint8Array): boolean {
  const value = bytesToNumberLE(u);
  if (value >= P) return false;
  const denominator = mod(value + 1n, P);
  if (denominator === 0n) return false;
  const y = mod((value - 1n) * invert(denominator, P), P);
  try {
    return ed25519.Point.fromBytes(numberToBytesLE(y, 32)).isTorsionFree();
  } catch {
    return false; // not on the curve
  }
}
