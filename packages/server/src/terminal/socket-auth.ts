/**
 * What the sandbox WebSockets (the terminal here, streaming exec in ../exec-stream) share:
 * taking the upgrade for their route, authenticating the caller (one-use terminal token or,
 * where the route allows it, an API token in the URL, or a bearer header), finding the caller's running sandbox, keeping it awake while the
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
import { actorOfToken } from '../xrpc/auth';
import { CloseCode, closeReason } from './protocol';
import { TERMINAL_TOKEN_PREFIX, type TerminalTokenStore } from './tokens';

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
 * Takes the upgrades whose path is this route's (`match` says which, with what it captured,
 * or undefined when the path is not this route) and hands the accepted socket to `open`.
 * Only the path is looked at, never the Host header: clients reach a route on whatever name
 * they were configured with (features that own whole hosts, like host-form previews, are asked first).
 */
export function sandboxUpgrade<T>(
  wss: WebSocketServer,
  match: (pathname: string) => T | undefined,
  open: (ws: WebSocket, req: IncomingMessage, url: URL, matched: T) => Promise<void>,
): UpgradeHandler {
  return (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://pocketenv.invalid');
    const matched = match(url.pathname);
    if (matched === undefined) return false;
    wss.handleUpgrade(req, socket as Duplex, head, (ws) => void open(ws, req, url, matched));
    return true;
  };
}

/** How a route takes credentials and words their refusal. */
export interface SocketCredentials {
  /** Query parameters that may carry a token, the first present one wins. */
  tokenParams: readonly string[];
  /**
   * Whether the query token may also be an API (bearer) token, as the official CLI sends it;
   * otherwise only one-use terminal tokens are taken from the URL.
   */
  apiTokenInQuery?: boolean;
  /** The reason when a terminal token is not accepted. */
  badTokenReason: string;
  /** The reason when neither a token nor a bearer header was sent. */
  missingReason: string;
}

/** How the caller proved who they are (some protocols frame their output by it, see ./routes.ts). */
export type CredentialKind = 'terminalToken' | 'queryApiToken' | 'bearer';

export interface SocketCaller {
  actor: Actor;
  credential: CredentialKind;
}

const BAD_API_TOKEN = 'AuthenticationRequired: the token is invalid, expired or revoked';

/**
 * The caller: the token in the URL (a terminal token, or an API token where the route takes
 * one, with the same expiry and revocation rules as a bearer header), else the bearer header.
 * @throws Refusal 4401
 */
export async function authenticateSocket(
  ctx: AppContext,
  tokens: TerminalTokenStore,
  req: IncomingMessage,
  url: URL,
  credentials: SocketCredentials,
): Promise<SocketCaller> {
  let urlToken: string | null = null;
  for (const param of credentials.tokenParams) {
    urlToken = url.searchParams.get(param);
    if (urlToken !== null) break;
  }
  if (urlToken) {
    const isTerminalToken = urlToken.startsWith(TERMINAL_TOKEN_PREFIX);
    if (isTerminalToken) {
      const actor = await tokens.consume(urlToken);
      if (actor) return { actor, credential: 'terminalToken' };
    }
    // An API token may happen to start like a terminal token: it is still tried as one.
    if (credentials.apiTokenInQuery) {
      const actor = await actorOfToken(ctx.actors, urlToken);
      if (actor) return { actor, credential: 'queryApiToken' };
    }
    throw new Refusal(CloseCode.AUTHENTICATION_REQUIRED, isTerminalToken || !credentials.apiTokenInQuery ? credentials.badTokenReason : BAD_API_TOKEN);
  }
  const header = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (header) {
    const actor = await actorOfToken(ctx.actors, header[1]!);
    if (actor) return { actor, credential: 'bearer' };
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

/**
 * Closes `ws` with the refusal `err` stands for, logging the failures that are ours or the
 * provider's. `farewell` runs just before the close, for protocols that also say it in a frame.
 */
export function refuseSocket(ws: WebSocket, err: unknown, log: Logger, wording: FailureWording, farewell?: (refusal: Refusal) => void): void {
  const refusal = toRefusal(err, wording);
  if (refusal.code === CloseCode.INTERNAL || refusal.code === CloseCode.PROVIDER_FAILURE) log.error(wording.logMessage, { err });
  if (ws.readyState !== ws.OPEN) return;
  farewell?.(refusal);
  ws.close(refusal.code, closeReason(refusal.message));
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
