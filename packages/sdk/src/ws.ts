/**
 * What the SDK's WebSocket channels (terminal, streaming exec) share: building their URL, and
 * turning how a connection failed or was refused into the SDK's error classes. The server
 * refuses by accepting the socket and closing it with a code (4400/4401/4404/4429/4502/1011) and a
 * "Name: message" reason, because browsers cannot see the status of a refused handshake.
 */
import type WebSocket from 'ws';
import { ApiError, AuthenticationError, HttpError, InvalidRequestError, ProviderError, RateLimitError, RequestBuildError, SandboxNotFoundError } from './errors';

/**
 * The `ws` client class, loaded on first use: it pulls in tls and https (about 90 ms of CPU on a
 * 2-core host), which importing the SDK — and so starting the CLI — must not pay for.
 */
export async function loadWebSocket(): Promise<typeof WebSocket> {
  return (await import('ws')).default;
}

/** `<baseUrl><path>` with http(s) swapped for ws(s). @throws RequestBuildError for a bad base URL. */
export function webSocketUrl(baseUrl: string, path: string): URL {
  let url: URL;
  try {
    url = new URL(`${baseUrl.replace(/\/+$/, '')}${path}`);
  } catch {
    throw new RequestBuildError(`invalid base URL ${JSON.stringify(baseUrl)}`);
  }
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url;
}

/** The error class for a server's refusal close code (4400/4401/4404/4429/4502/1011), else undefined. `what` names the channel ("terminal", "exec"). */
export function refusalError(code: number, reason: string, what: string): ApiError | undefined {
  const match = /^([A-Za-z]+): ([\s\S]*)$/.exec(reason);
  const name = match?.[1] ?? `Close${code}`;
  const message = match?.[2] ?? (reason || `the ${what} was refused (close code ${code})`);
  switch (code) {
    case 4400:
      return new InvalidRequestError(400, name, message);
    case 4401:
      return new AuthenticationError(401, name, message);
    case 4404:
      return new SandboxNotFoundError(404, name, message);
    case 4429:
      return new RateLimitError(429, name, message);
    case 4502:
      return new ProviderError(502, name, message);
    case 1011:
      return new ApiError(500, name, message);
    default:
      return undefined;
  }
}

/**
 * Remembers why `ws` failed to connect (a network error, or an HTTP answer instead of an
 * upgrade, after which the socket is dropped) as an HttpError, for the close handler to
 * report. Returns a getter for it.
 */
export function trackConnectionFailure(ws: WebSocket, what: string, where: string): () => Error | undefined {
  let failure: Error | undefined;
  ws.on('error', (err) => (failure ??= new HttpError(`${what} connection to ${where} failed: ${err.message}`, { cause: err })));
  ws.on('unexpected-response', (_req, res) => {
    failure = new HttpError(`${what} connection to ${where} was refused with HTTP ${res.statusCode}`);
    ws.terminate();
  });
  return () => failure;
}

/** Resolves once `ws` is open; rejects with `closed`'s error, or an HttpError when it closed first without one. */
export function untilOpen(ws: WebSocket, closed: Promise<unknown>, what: string, where: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    closed.then(() => reject(new HttpError(`${what} connection to ${where} closed before it opened`)), reject);
  });
}
