/**
 * The XRPC transport: builds `/xrpc/<nsid>` requests and is the ONE place where wire errors
 * become error classes. Every module (sandbox, and later env, secrets, files, …) calls
 * {@link query} or {@link procedure}; none of them looks at a status code.
 * @module
 */
import type { Client } from './client';
import { tokenFilePath } from './client';
import {
  AbortedError,
  ApiError,
  AuthenticationError,
  ConflictError,
  DecodeError,
  ForbiddenError,
  HttpError,
  InvalidRequestError,
  NotFoundError,
  NotImplementedError,
  ProviderError,
  RateLimitError,
  RequestBuildError,
  SandboxNotFoundError,
  TimeoutError,
} from './errors';
import { request, type TransportResponse } from './transport';

/** The trailing options of every method of the object API (`Sandbox` and its sub-resources). */
export interface RequestOptions {
  /** Aborts the call; it then rejects with `AbortedError`. */
  signal?: AbortSignal;
  /** Gives up on the HTTP request after this many milliseconds with `TimeoutError`. No limit by default. */
  requestTimeoutMs?: number;
}

/** Accepted as the last argument of every seed-shaped function. */
export interface CallOptions extends RequestOptions {
  /** The seed functions' name for {@link RequestOptions.requestTimeoutMs} (which wins when both are given). */
  timeoutMs?: number;
}

/** The HTTP time limit a call asked for, under either name. */
export function requestTimeoutOf(opts: CallOptions): number | undefined {
  return opts.requestTimeoutMs ?? opts.timeoutMs;
}

/** Query-string parameters; `undefined` values are left out. */
export type Params = Record<string, string | number | boolean | undefined>;

const USER_AGENT = 'pocketenv-sdk-ts/0.1.0';

/**
 * GET `/xrpc/<nsid>?params` and return the parsed JSON body.
 * @example
 * const body = await query(client, 'io.pocketenv.actor.getProfile', {});
 */
export function query(client: Client, nsid: string, params: Params, opts?: CallOptions): Promise<unknown> {
  return send(client, 'GET', nsid, params, undefined, opts);
}

/**
 * POST `/xrpc/<nsid>?params` with a JSON body (`{}` when the method has no input) and return
 * the parsed JSON body (`{}` for an empty answer).
 * @example
 * await procedure(client, 'io.pocketenv.sandbox.stopSandbox', { id }, {});
 */
export function procedure(
  client: Client,
  nsid: string,
  params: Params,
  body: unknown,
  opts?: CallOptions,
): Promise<unknown> {
  return send(client, 'POST', nsid, params, body ?? {}, opts);
}

async function send(
  client: Client,
  method: 'GET' | 'POST',
  nsid: string,
  params: Params,
  body: unknown,
  opts: CallOptions = {},
): Promise<unknown> {
  const url = buildUrl(client.baseUrl, nsid, params);
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': USER_AGENT };
  if (client.token !== undefined) headers.authorization = `Bearer ${client.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';

  const { signal, timedOut, dispose } = combineSignals(opts);
  let response: TransportResponse;
  try {
    response = await request(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (cause) {
    throw transportError(cause, url, opts, timedOut());
  } finally {
    dispose();
  }

  const { text } = response;
  if (!response.ok) throw apiErrorFor(response, text, client);
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new DecodeError(`${nsid}: the server answered ${response.status} with a body that is not JSON: ${excerpt(text)}`);
  }
}

function buildUrl(baseUrl: string, nsid: string, params: Params): URL {
  let url: URL;
  try {
    // Appended rather than resolved, so a base URL with a path prefix keeps it.
    url = new URL(`${baseUrl.replace(/\/+$/, '')}/xrpc/${nsid}`);
  } catch {
    throw new RequestBuildError(`invalid base URL ${JSON.stringify(baseUrl)}: expected something like http://127.0.0.1:8789`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RequestBuildError(`invalid base URL ${JSON.stringify(baseUrl)}: only http and https are supported`);
  }
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) url.searchParams.set(key, String(value));
  }
  return url;
}

/** The caller's signal plus the timeout, as one signal; `timedOut()` says which one fired. */
function combineSignals(opts: CallOptions): { signal?: AbortSignal; timedOut: () => boolean; dispose: () => void } {
  const limit = requestTimeoutOf(opts);
  if (limit === undefined) return { signal: opts.signal, timedOut: () => false, dispose: () => {} };
  const timer = new AbortController();
  let fired = false;
  const handle = setTimeout(() => {
    fired = true;
    timer.abort();
  }, limit);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timer.signal]) : timer.signal;
  return { signal, timedOut: () => fired, dispose: () => clearTimeout(handle) };
}

function transportError(cause: unknown, url: URL, opts: CallOptions, timedOut: boolean): HttpError {
  const where = `${url.origin}${url.pathname}`;
  if (timedOut) return new TimeoutError(`${where}: no answer within ${requestTimeoutOf(opts)} ms`, { cause });
  if (opts.signal?.aborted) return new AbortedError(`${where}: aborted`, { cause });
  // node:http puts the useful part (ECONNREFUSED, ENOTFOUND…) in `code`.
  const detail = (cause as { code?: string })?.code ?? (cause instanceof Error ? cause.message : String(cause));
  return new HttpError(`cannot reach ${url.origin} (${detail})`, { cause });
}

/** The part of an answer the error mapping reads: a fetch `Response` or a {@link TransportResponse}. */
type AnswerHead = Pick<TransportResponse, 'status' | 'statusText' | 'headers'>;

/**
 * Maps a non-2xx answer to its error class. Known statuses win over names, so a server that
 * answers 404 with a generic name still gives a `NotFoundError`.
 */
export function apiErrorFor(response: AnswerHead, text: string, client: Client): ApiError {
  const { error, message } = parseErrorBody(response, text);
  const status = response.status;
  switch (status) {
    case 400:
      return new InvalidRequestError(status, error, message);
    case 401:
      return new AuthenticationError(status, error, client.token === undefined ? `${message} (${missingTokenHint()})` : message);
    case 403:
      return new ForbiddenError(status, error, message);
    case 404:
      return error === 'SandboxNotFound'
        ? new SandboxNotFoundError(status, error, message)
        : new NotFoundError(status, error, message);
    case 409:
      return new ConflictError(status, error, message);
    case 429:
      return new RateLimitError(status, error, message, retryAfterSeconds(response));
    case 501:
      return new NotImplementedError(status, error, message);
    case 502:
      return new ProviderError(status, error, message);
    default:
      return new ApiError(status, error, message);
  }
}

function parseErrorBody(response: AnswerHead, text: string): { error: string; message: string } {
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    const error = typeof body.error === 'string' ? body.error : undefined;
    const message = typeof body.message === 'string' ? body.message : undefined;
    if (error !== undefined || message !== undefined) {
      return { error: error ?? `Http${response.status}`, message: message ?? error ?? response.statusText };
    }
  } catch {
    // not JSON (a proxy's HTML page, for instance): fall through
  }
  const statusLine = `${response.status} ${response.statusText}`.trim();
  return { error: `Http${response.status}`, message: text.trim() ? `${statusLine}: ${excerpt(text)}` : statusLine };
}

function retryAfterSeconds(response: AnswerHead): number | undefined {
  const header = response.headers.get('retry-after');
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return seconds;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function missingTokenHint(): string {
  return `no token was given: pass one to newClient, set POCKETENV_TOKEN, or write ${tokenFilePath()}`;
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}
