/** Random identifiers: a readable prefix plus base62 of 16 random bytes (like the hosted `sbx_…`). */
import { randomBytes } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function base62(bytes: Uint8Array): string {
  let n = BigInt('0x' + Buffer.from(bytes).toString('hex'));
  let out = '';
  while (n > 0n) {
    out = BASE62[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out || '0';
}

export function newId(prefix: 'sbx' | 'act' | 'tok'): string {
  return `${prefix}_${base62(randomBytes(16))}`;
}

export function nowIso(): string {
  return new Date().toISOString();
}
