import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where a self-hosted server listens by default (`pocketenv serve`). */
export const DEFAULT_BASE_URL = 'http://127.0.0.1:8789';
/** The hosted Pocketenv API, for reference: pass it as `baseUrl` to talk to the hosted service. */
export const HOSTED_BASE_URL = 'https://api.pocketenv.io';

/**
 * Connection settings passed explicitly to every call. A plain record: no global state,
 * so one process can talk to several servers or as several actors.
 */
export interface Client {
  /** Root of the API, without `/xrpc`. A path prefix (`https://host/pocketenv`) is kept. */
  readonly baseUrl: string;
  /** Root of the copy store (`/cp`). Our server serves it itself, so it defaults to `baseUrl`. */
  readonly storageUrl: string;
  /** Bearer token; `undefined` when none was found (calls that need one then fail with 401). */
  readonly token: string | undefined;
  /**
   * The server's sealing key (64 hex characters), when the caller gave one. Without it, the key
   * is fetched from `describeServer` on first use (see `crypto.serverPublicKey`).
   */
  readonly publicKey?: string;
}

export interface ClientOptions {
  /**
   * Root URL of the Pocketenv API.
   * @default process.env.POCKETENV_API_URL, else `http://127.0.0.1:8789` (a local `pocketenv serve`).
   * The hosted service is `https://api.pocketenv.io` ({@link HOSTED_BASE_URL}).
   */
  baseUrl?: string;
  /**
   * Root URL of the copy store.
   * @default process.env.POCKETENV_STORAGE_URL, else `baseUrl`.
   */
  storageUrl?: string;
  /**
   * The server's sealing key (hex). Leave it out to use the key the server publishes in
   * `describeServer` (fetched once per client); a wrong key makes every sealed value a 400.
   */
  publicKey?: string;
  /**
   * Where the defaults above and the token's fallbacks are read from, once, when the client is
   * made (the CLI passes the environment it read at start).
   * @default process.env
   */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Builds a {@link Client}. Nothing is sent; a bad token shows up on the first call.
 *
 * The token is the first of:
 * 1. the `token` argument;
 * 2. `POCKETENV_TOKEN`;
 * 3. the `token` field of `token.json` in the Pocketenv data directory: `$POCKETENV_DATA_DIR`
 *    when set (the directory `pocketenv serve --data-dir` writes its owner token to), else
 *    `~/.pocketenv` (where the hosted CLI's `login` writes it).
 *
 * Without any, the client is still built (unauthenticated methods work) and calls that need a
 * token fail with `AuthenticationError`. Environment and file are read now, not at import time.
 *
 * @param token Bearer token; see above for the fallbacks.
 * @example
 * import { pocketenv } from '@pocketenv/sdk';
 * const client = pocketenv.newClient();                    // POCKETENV_TOKEN or token.json
 * const other = pocketenv.newClient('tok_…', { baseUrl: 'http://10.0.0.5:8789' });
 */
export function newClient(token?: string, options: ClientOptions = {}): Client {
  const env = options.env ?? process.env;
  const baseUrl = trimSlash(options.baseUrl ?? nonEmpty(env.POCKETENV_API_URL) ?? DEFAULT_BASE_URL);
  const storageUrl = trimSlash(options.storageUrl ?? nonEmpty(env.POCKETENV_STORAGE_URL) ?? baseUrl);
  const client: Client = { baseUrl, storageUrl, token: nonEmpty(token) ?? nonEmpty(env.POCKETENV_TOKEN) ?? readTokenFile(env) };
  const publicKey = nonEmpty(options.publicKey);
  return publicKey === undefined ? client : { ...client, publicKey };
}

/**
 * Path of the token file the SDK and CLI read: `$POCKETENV_DATA_DIR/token.json`, else
 * `~/.pocketenv/token.json`.
 * @example
 * console.log(pocketenv.tokenFilePath()); // /root/.pocketenv/token.json
 */
export function tokenFilePath(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return join(nonEmpty(env.POCKETENV_DATA_DIR) ?? join(nonEmpty(env.HOME) ?? homedir(), '.pocketenv'), 'token.json');
}

function readTokenFile(env: Readonly<Record<string, string | undefined>>): string | undefined {
  let text: string;
  try {
    text = readFileSync(tokenFilePath(env), 'utf8');
  } catch {
    return undefined; // no file: not logged in, which the server will say (401)
  }
  try {
    const parsed: unknown = JSON.parse(text);
    const token = (parsed as { token?: unknown } | null)?.token;
    return typeof token === 'string' ? nonEmpty(token) : undefined;
  } catch {
    return undefined;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
