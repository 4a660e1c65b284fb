/**
 * What the sandbox WebSockets (the terminal here, streaming exec in ../exec-stream) share:
 * taking the upgrade for their route, authenticating the caller (one-use terminal token in the
 * URL, or a bearer header), finding the caller's running sandbox, keeping it awake while the
 * socket is in use, and refusing with a close code (protocol.ts) rather than an HTTP status —
 * a browser's WebSocket cannot see the status of a refused handshake but does see a close code.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ProviderError, SandboxNotRunningError, UnsupportedCapabilityError } from '@pocketenv/runtime';
import type { WebSocket, WebSocketServer } from 'ws';
import type { AppContext } from '../context';
import type { Actor, SandboxRecord } from '../db/schema';
import { ProviderFailureError, RateLimitError, describeFailure } from '../errors';
import type { UpgradeHandler } from '../features';
import type { Logger } from '../log';
import { CloseCode, closeReason } from './protocol';
import type { TerminalTokenStore } from './tokens';

/** Why a socket is being closed: a close code and a "Name: message" reason. */
export class Refusal extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Takes the upgrades whose path names a sandbox (`sandboxOf` says which, or undefined when the
 * path is not this route) and hands the accepted socket to `open`.
 */
export function sandboxUpgrade(
  wss: WebSocketServer,
  sandboxOf: (pathname: string) => string | undefined,
  open: (ws: WebSocket, req: IncomingMessage, url: URL, idOrName: string) => Promise<void>,
): UpgradeHandler {
  return (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://pocketenv.invalid');
    const idOrName = sandboxOf(url.pathname);
    if (idOrName === undefined) return false;
    wss.handleUpgrade(req, socket as Duplex, head, (ws) => void open(ws, req, url, idOrName));
    return true;
  };
}

/** How a route takes credentials and words their refusal. */
export interface SocketCredentials {
  /** Query parameters that may carry a one-use terminal token, the first present one wins. */
  tokenParams: readonly string[];
  /** The reason when that token is not accepted. */
  badTokenReason: string;
  /** The reason when neither a token nor a bearer header was sent. */
  missingReason: string;
}

/** The caller: the terminal token in the URL, else the bearer header. @throws Refusal 4401 */
export async function authenticateSocket(
  ctx: AppContext,
  tokens: TerminalTokenStore,
  req: IncomingMessage,
  url: URL,
  credentials: SocketCredentials,
): Promise<Actor> {
  let urlToken: string | null = null;
  for (const param of credentials.tokenParams) {
    urlToken = url.searchParams.get(param);
    if (urlToken !== null) break;
  }
  if (urlToken) {
    const actor = await tokens.consume(urlToken);
    if (!actor) throw new Refusal(CloseCode.AUTHENTICATION_REQUIRED, credentials.badTokenReason);
    return actor;
  }
  const header = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (header && header[1]!.length <= 512) {
    const actor = await ctx.actors.findByToken(header[1]!);
    if (actor) return actor;
    throw new Refusal(CloseCode.AUTHENTICATION_REQUIRED, 'AuthenticationRequired: the bearer token is invalid, expired or revoked');
  }
  throw new Refusal(CloseCode.AUTHENTICATION_REQUIRED, credentials.missingReason);
}

/** The actor's sandbox by id or name, which must be running. @throws Refusal 4404 / 4400 */
export async function runningSandboxOf(ctx: AppContext, actor: Actor, idOrName: string): Promise<SandboxRecord> {
  const record = await ctx.sandboxes.findOwned(actor.id, idOrName);
  if (!record) throw new Refusal(CloseCode.SANDBOX_NOT_FOUND, `SandboxNotFound: sandbox ${JSON.stringify(idOrName)} not found`);
  if (record.status !== 'RUNNING') {
    throw new Refusal(CloseCode.INVALID_REQUEST, `InvalidRequest: sandbox ${record.name} is ${record.status}, not RUNNING; start it first`);
  }
  return record;
}

/** An open socket is activity: touches the sandbox regularly so the idle reaper leaves it running. Clear the timer when done. */
export function keepSandboxAwake(ctx: AppContext, id: string): NodeJS.Timeout {
  const every = Math.max(250, Math.min(15_000, Math.floor(ctx.config.idleTimeoutMs / 4) || 15_000));
  const timer = setInterval(() => void ctx.sandboxes.touch(id).catch(() => undefined), every);
  timer.unref();
  return timer;
}

/** How a route words a failure that is not a Refusal already. */
export interface FailureWording {
  /** The reason of a 1011 close, e.g. "InternalServerError: the terminal could not be opened". */
  internalReason: string;
  /** The log message for 1011 and 4502 closes. */
  logMessage: string;
  /** Runtime errors that, besides unsupported / not running, mean the request was bad (4400). */
  alsoInvalidRequest?: ReadonlyArray<abstract new (...args: never[]) => Error>;
}

/** Closes `ws` with the refusal `err` stands for, logging the failures that are ours or the provider's. */
export function refuseSocket(ws: WebSocket, err: unknown, log: Logger, wording: FailureWording): void {
  const refusal = toRefusal(err, wording);
  if (refusal.code === CloseCode.INTERNAL || refusal.code === CloseCode.PROVIDER_FAILURE) log.error(wording.logMessage, { err });
  if (ws.readyState === ws.OPEN) ws.close(refusal.code, closeReason(refusal.message));
}

function toRefusal(err: unknown, wording: FailureWording): Refusal {
  if (err instanceof Refusal) return err;
  if (err instanceof RateLimitError) return new Refusal(CloseCode.RATE_LIMITED, `RateLimitExceeded: ${err.message}`);
  const invalid = [UnsupportedCapabilityError, SandboxNotRunningError, ...(wording.alsoInvalidRequest ?? [])];
  if (invalid.some((type) => err instanceof type)) return new Refusal(CloseCode.INVALID_REQUEST, `InvalidRequest: ${(err as Error).message}`);
  if (err instanceof ProviderError || err instanceof ProviderFailureError) {
    return new Refusal(CloseCode.PROVIDER_FAILURE, `SandboxProviderError: ${describeFailure(err)}`);
  }
  return new Refusal(CloseCode.INTERNAL, wording.internalReason);
}
