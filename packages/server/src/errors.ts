/**
 * Domain errors, and the ONE place where any error becomes a wire error
 * (`{"error": Name, "message": text}` with the contract's status). Handlers, the
 * orchestrator and the auth verifier throw domain or provider errors; `toXrpcError` is
 * installed as the xrpc-server `errorParser` and as the app's last error handler.
 */
import { XRPCError, ResponseType } from '@atproto/xrpc-server';
import {
  ProviderError,
  UnsupportedCapabilityError,
  SandboxMissingError,
  SandboxNotRunningError,
  PathEscapeError,
  UnknownBaseError,
} from '@pocketenv/runtime';

export class PocketenvError extends Error {
  override name = 'PocketenvError';
}

/** A request value is wrong; `field` names it so clients can point at it. */
export class InvalidInputError extends PocketenvError {
  override name = 'InvalidInputError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message.startsWith(field) ? message : `${field}: ${message}`);
  }
}

export class AuthenticationError extends PocketenvError {
  override name = 'AuthenticationError';
}

/** The sandbox does not exist or belongs to someone else (the two are indistinguishable on purpose). */
export class SandboxNotFoundError extends PocketenvError {
  override name = 'SandboxNotFoundError';
  constructor(readonly idOrName: string) {
    super(`sandbox ${JSON.stringify(idOrName)} not found`);
  }
}

export class NotFoundError extends PocketenvError {
  override name = 'NotFoundError';
}

export class ConflictError extends PocketenvError {
  override name = 'ConflictError';
}

/** The sandbox is not in a state that allows the operation (e.g. exec on a stopped sandbox). */
export class InvalidStateError extends PocketenvError {
  override name = 'InvalidStateError';
}

/** A provider call failed; the message is safe to show (it is also stored on the record). */
export class ProviderFailureError extends PocketenvError {
  override name = 'ProviderFailureError';
}

export class NotImplementedError extends PocketenvError {
  override name = 'NotImplementedError';
}

/**
 * What the request needs is still being built on this host (a base image, code-server): 503
 * `NotReady`, with Retry-After when there is an estimate. Nothing was created; try again later.
 */
export class NotReadyError extends PocketenvError {
  override name = 'NotReadyError';
}

/** A per-actor rate limit or quota (src/limits) refused the request; 429 with Retry-After. */
export class RateLimitError extends PocketenvError {
  override name = 'RateLimitError';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** Shortest useful description of a provider failure, for records and responses. */
export function describeFailure(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/** Body-parser errors are http-errors with a `type`; see `express.json`. */
interface HttpLikeError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
  message?: string;
}

export function toXrpcError(err: unknown, jsonLimitBytes?: number): XRPCError {
  if (err instanceof XRPCError) return normalizeXrpc(err);

  if (err instanceof InvalidInputError) return new XRPCError(ResponseType.InvalidRequest, err.message, 'InvalidRequest');
  if (err instanceof InvalidStateError) return new XRPCError(ResponseType.InvalidRequest, err.message, 'InvalidRequest');
  if (err instanceof AuthenticationError) return new XRPCError(ResponseType.AuthenticationRequired, err.message, 'AuthenticationRequired');
  if (err instanceof SandboxNotFoundError) return new XRPCError(404, err.message, 'SandboxNotFound');
  if (err instanceof NotFoundError) return new XRPCError(404, err.message, 'NotFound');
  if (err instanceof ConflictError) return new XRPCError(409 as ResponseType, err.message, 'Conflict');
  if (err instanceof NotImplementedError) return new XRPCError(ResponseType.MethodNotImplemented, err.message, 'MethodNotImplemented');
  if (err instanceof RateLimitError) return new XRPCError(ResponseType.RateLimitExceeded, err.message, 'RateLimitExceeded');
  if (err instanceof NotReadyError) return new XRPCError(ResponseType.NotEnoughResources, err.message, 'NotReady');
  if (err instanceof ProviderFailureError) return new XRPCError(ResponseType.UpstreamFailure, err.message, 'SandboxProviderError');

  // Provider errors that reach here unwrapped: the caller asked for something the sandbox
  // cannot do right now, or the provider itself failed.
  if (err instanceof SandboxNotRunningError) return new XRPCError(ResponseType.InvalidRequest, err.message, 'InvalidRequest');
  if (err instanceof PathEscapeError) return new XRPCError(ResponseType.InvalidRequest, err.message, 'InvalidRequest');
  if (err instanceof UnknownBaseError) return new XRPCError(ResponseType.InvalidRequest, `base: ${err.message}`, 'InvalidRequest');
  if (err instanceof UnsupportedCapabilityError) return new XRPCError(ResponseType.InvalidRequest, err.message, 'InvalidRequest');
  if (err instanceof SandboxMissingError) return new XRPCError(ResponseType.UpstreamFailure, err.message, 'SandboxProviderError');
  if (err instanceof ProviderError) return new XRPCError(ResponseType.UpstreamFailure, err.message, 'SandboxProviderError');

  const http = err as HttpLikeError;
  if (err instanceof Error && (http.type === 'entity.too.large' || http.status === 413)) {
    const limit = jsonLimitBytes ? ` (limit ${formatBytes(jsonLimitBytes)})` : '';
    return new XRPCError(ResponseType.PayloadTooLarge, `request body is too large${limit}`, 'PayloadTooLarge');
  }
  if (err instanceof Error && http.type === 'entity.parse.failed') {
    return new XRPCError(ResponseType.InvalidRequest, 'request body is not valid JSON', 'InvalidRequest');
  }
  if (err instanceof Error && typeof http.status === 'number' && http.status >= 400 && http.status < 500 && http.expose) {
    return new XRPCError(http.status as ResponseType, http.message, nameForStatus(http.status));
  }
  // Anything else is a bug or an infrastructure failure: the message never leaves the server.
  return new XRPCError(ResponseType.InternalServerError, 'Internal Server Error', 'InternalServerError', { cause: err });
}

/** Gives xrpc-server's own errors the contract's names (it uses e.g. `XRPCNotSupported` for 404). */
function normalizeXrpc(err: XRPCError): XRPCError {
  const status = err.statusCode;
  if (status === 500) return new XRPCError(ResponseType.InternalServerError, 'Internal Server Error', 'InternalServerError', { cause: err });
  // xrpc-server stringifies lexicon errors ("Error: limit can not be less than 1").
  const message = err.errorMessage?.replace(/^Error: /, '');
  return new XRPCError(err.type, message, err.customErrorName ?? nameForStatus(status), { cause: err });
}

function nameForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'InvalidRequest';
    case 401:
      return 'AuthenticationRequired';
    case 403:
      return 'Forbidden';
    case 404:
      return 'NotFound';
    case 409:
      return 'Conflict';
    case 413:
      return 'PayloadTooLarge';
    case 429:
      return 'RateLimitExceeded';
    case 501:
      return 'MethodNotImplemented';
    case 502:
      return 'UpstreamFailure';
    default:
      return status >= 500 ? 'InternalServerError' : 'InvalidRequest';
  }
}

function formatBytes(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : `${n} bytes`;
}
