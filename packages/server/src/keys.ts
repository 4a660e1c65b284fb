/**
 * The server's X25519 key pair for libsodium sealed boxes. Clients seal secrets with the
 * public key (published by describeServer); only this server can open them. Created on
 * first start in `<dataDir>/keys/box.json`, mode 0600, never returned over the API.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

/** X25519 key sizes (crypto_box_PUBLICKEYBYTES / SECRETKEYBYTES). */
const KEY_BYTES = 32;

/**
 * libsodium, loaded on first use: a server whose keys exist needs it only to open a sealed value,
 * and it costs about 5 MiB of memory (its WebAssembly heap) from the moment it is loaded.
 */
async function loadSodium() {
  const sodium = (await import('libsodium-wrappers')).default;
  await sodium.ready;
  return sodium;
}

export interface BoxKeyPair {
  publicKey: Uint8Array;
  privateKey: Uint8Array;
}

interface StoredKeys {
  publicKey: string;
  privateKey: string;
}

export async function loadOrCreateBoxKeys(dataDir: string): Promise<BoxKeyPair> {
  const dir = path.join(dataDir, 'keys');
  const file = path.join(dir, 'box.json');
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.chmod(dir, 0o700);

  try {
    const stored = JSON.parse(await fs.readFile(file, 'utf8')) as StoredKeys;
    const keys = { publicKey: keyFromHex(stored.publicKey), privateKey: keyFromHex(stored.privateKey) };
    if (keys.publicKey.length !== KEY_BYTES || keys.privateKey.length !== KEY_BYTES) {
      throw new Error(`${file} does not hold an X25519 key pair`);
    }
    return keys;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }

  const sodium = await loadSodium();
  const pair = sodium.crypto_box_keypair();
  const stored: StoredKeys = { publicKey: sodium.to_hex(pair.publicKey), privateKey: sodium.to_hex(pair.privateKey) };
  // Write to a temp file then rename, so a crash never leaves a half-written key file.
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(stored) + '\n', { mode: 0o600, flag: 'wx' });
  try {
    await fs.link(tmp, file);
  } catch (err) {
    // Another process created the keys first: theirs win.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    await fs.unlink(tmp);
    return loadOrCreateBoxKeys(dataDir);
  }
  await fs.unlink(tmp);
  return { publicKey: pair.publicKey, privateKey: pair.privateKey };
}

/** Seals `plain` to the server's own key (a value a client sent unsealed), base64url without padding. */
export async function sealToServer(keys: BoxKeyPair, plain: Uint8Array): Promise<string> {
  const sodium = await loadSodium();
  return sodium.to_base64(sodium.crypto_box_seal(plain, keys.publicKey), sodium.base64_variants.URLSAFE_NO_PADDING);
}

/** A stored key's bytes; empty (so refused by the length check) unless it is all hex digits. */
function keyFromHex(hex: unknown): Uint8Array {
  return typeof hex === 'string' && /^(?:[0-9a-fA-F]{2})+$/.test(hex) ? new Uint8Array(Buffer.from(hex, 'hex')) : new Uint8Array();
}

/** Opens a sealed box (base64url, no padding) sent by a client. */
export async function openSealed(keys: BoxKeyPair, sealed: string): Promise<Uint8Array> {
  const sodium = await loadSodium();
  const cipher = sodium.from_base64(sealed, sodium.base64_variants.URLSAFE_NO_PADDING);
  return sodium.crypto_box_seal_open(cipher, keys.publicKey, keys.privateKey);
}

export function publicKeyHex(keys: BoxKeyPair): string {
  return Buffer.from(keys.publicKey).toString('hex');
}
