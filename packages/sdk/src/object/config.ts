/**
 * Where the object API's calls go: `Sandbox.configure()` sets a process-wide client, built
 * lazily from the environment when it was never called (as the official JS SDK does); a call
 * given its own connection settings gets a client of its own.
 * @module
 */
import { type Client, newClient, tokenFilePath } from '../client';
import { AuthenticationError } from '../errors';

/** Connection settings of `Sandbox.configure`, and of any static given its own. */
export interface ConnectionOptions {
  /**
   * Bearer token.
   * @default process.env.POCKETENV_TOKEN, else the `token` of `~/.pocketenv/token.json`
   * (`$POCKETENV_DATA_DIR/token.json` when that variable is set)
   */
  token?: string;
  /** @default process.env.POCKETENV_API_URL, else `http://127.0.0.1:8789` */
  baseUrl?: string;
  /** Root of the copy store. @default process.env.POCKETENV_STORAGE_URL, else `baseUrl` */
  storageUrl?: string;
  /**
   * The server's sealing key (hex).
   * @default process.env.POCKETENV_PUBLIC_KEY, else the key the server publishes in describeServer
   */
  publicKey?: string;
}

/** Statics also accept a seed-shaped `Client` (from `pocketenv.newClient`) to use as is. */
export interface ClientChoice extends ConnectionOptions {
  client?: Client;
}

let configured: Client | undefined;

/**
 * Sets the client every object-API call uses unless told otherwise.
 * @throws AuthenticationError when no token is given and none is found.
 */
export function configure(opts: ConnectionOptions = {}): void {
  configured = resolveClient(opts);
}

/** The configured client, or one built from the environment on first use. */
export function defaultClient(): Client {
  configured ??= resolveClient({});
  return configured;
}

/**
 * The client for a call: `client` when given; else the configured one (or the environment's),
 * with the connection settings the call gives in place of its own. A call that names another
 * `baseUrl` takes nothing else from the configured client (a token or key meant for one server
 * is not sent to another): what it leaves out comes from the environment.
 */
export function clientFor(choice: ClientChoice): Client {
  if (choice.client) return choice.client;
  const { token, baseUrl, storageUrl, publicKey } = choice;
  if (token === undefined && baseUrl === undefined && storageUrl === undefined && publicKey === undefined) return defaultClient();
  const base = configured && (baseUrl === undefined || baseUrl.replace(/\/+$/, '') === configured.baseUrl) ? configured : undefined;
  return resolveClient({
    token: token ?? base?.token,
    baseUrl: baseUrl ?? base?.baseUrl,
    storageUrl: storageUrl ?? base?.storageUrl,
    publicKey: publicKey ?? base?.publicKey,
  });
}

function resolveClient(opts: ConnectionOptions): Client {
  const publicKey = opts.publicKey ?? (process.env.POCKETENV_PUBLIC_KEY?.trim() || undefined);
  const client = newClient(opts.token, { baseUrl: opts.baseUrl, storageUrl: opts.storageUrl, publicKey });
  if (client.token === undefined) {
    throw new AuthenticationError(
      401,
      'AuthenticationRequired',
      `no API token: pass one to Sandbox.configure({ token }), set POCKETENV_TOKEN, or write {"token": "…"} to ${tokenFilePath()}`,
    );
  }
  return client;
}
