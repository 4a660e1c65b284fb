/**
 * Every error the SDK throws is a {@link PocketenvError}. Catch that to catch everything;
 * catch a subclass to react to one cause.
 *
 * ```
 * PocketenvError              (also exported as SandboxError)
 * ├─ ApiError                 the server answered with a non-2xx status ({status, error, message})
 * │  ├─ InvalidRequestError   400: an input was wrong; the message names the field (also InvalidArgumentError)
 * │  ├─ AuthenticationError   401: no token, or a token the server does not accept
 * │  ├─ ForbiddenError        403
 * │  ├─ NotFoundError         404
 * │  │  └─ SandboxNotFoundError  404 SandboxNotFound (also: someone else's sandbox)
 * │  ├─ ConflictError         409: a name, port or path is already taken
 * │  ├─ RateLimitError        429 (retryAfter seconds when the server said)
 * │  ├─ NotImplementedError   501: this server does not support the method (yet)
 * │  └─ ProviderError         502: the sandbox provider failed
 * ├─ HttpError                the request did not complete (connection refused, reset, …)
 * │  ├─ TimeoutError          `requestTimeoutMs` (or a wait's `timeoutMs`) elapsed
 * │  └─ AbortedError          the caller's `signal` aborted the call
 * ├─ DecodeError              a 2xx answer whose body is not what the method returns
 * ├─ RequestBuildError        the request could not be built (bad base URL, bad argument)
 * └─ SandboxStateError        a wait ended because the sandbox reached a state it cannot leave (ERROR)
 * ```
 *
 * NOTE: the wire → class table lives in `http.ts` (`apiErrorFor`); add a class there too.
 * @module
 */

/** Base class of every error thrown by `@pocketenv/sdk`. */
export class PocketenvError extends Error {
  override name = 'PocketenvError';
}

/** The same class as {@link PocketenvError}, under the name E2B's SDK gives its base error. */
export const SandboxError = PocketenvError;
/** @see PocketenvError */
export type SandboxError = PocketenvError;

/** The server answered with a status outside 200–299. */
export class ApiError extends PocketenvError {
  override name = 'ApiError';
  constructor(
    /** HTTP status, e.g. 404. */
    readonly status: number,
    /** The wire error name, e.g. `SandboxNotFound`, `InvalidRequest`. */
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

/** 400: the request was rejected as invalid; `message` names the offending field. */
export class InvalidRequestError extends ApiError {
  override name = 'InvalidRequestError';
}

/** The same class as {@link InvalidRequestError} (400), under the name E2B's SDK uses. */
export const InvalidArgumentError = InvalidRequestError;
/** @see InvalidRequestError */
export type InvalidArgumentError = InvalidRequestError;

/**
 * 401: the token is missing, unknown, revoked or malformed. Also thrown before any request by
 * `Sandbox.configure()` (and the first object-API call) when no token can be found.
 */
export class AuthenticationError extends ApiError {
  override name = 'AuthenticationError';
}

/** 403: authenticated, but not allowed to do this. */
export class ForbiddenError extends ApiError {
  override name = 'ForbiddenError';
}

/** 404: the thing does not exist (or is not yours: the server does not tell the two apart). */
export class NotFoundError extends ApiError {
  override name = 'NotFoundError';
}

/** 404 `SandboxNotFound`: no sandbox with that id or name belongs to the caller. */
export class SandboxNotFoundError extends NotFoundError {
  override name = 'SandboxNotFoundError';
}

/** 409: a unique name (sandbox name, port, path, …) is already in use. */
export class ConflictError extends ApiError {
  override name = 'ConflictError';
}

/** 429: too many requests. */
export class RateLimitError extends ApiError {
  override name = 'RateLimitError';
  constructor(
    status: number,
    error: string,
    message: string,
    /** Seconds to wait before retrying, from the `Retry-After` header, when the server sent one. */
    readonly retryAfter?: number,
  ) {
    super(status, error, message);
  }
}

/** 501: the server does not implement this method (yet). */
export class NotImplementedError extends ApiError {
  override name = 'NotImplementedError';
}

/** 502: the provider that runs the sandbox failed; the message says how. */
export class ProviderError extends ApiError {
  override name = 'ProviderError';
}

/** The request never got an HTTP answer: DNS, connection refused, reset, TLS… `cause` holds the original. */
export class HttpError extends PocketenvError {
  override name = 'HttpError';
}

/** The call took longer than its `timeoutMs`. */
export class TimeoutError extends HttpError {
  override name = 'TimeoutError';
}

/** The caller's `AbortSignal` aborted the call. */
export class AbortedError extends HttpError {
  override name = 'AbortedError';
}

/** The server answered 2xx, but the body is not the shape this method returns. */
export class DecodeError extends PocketenvError {
  override name = 'DecodeError';
}

/** The request could not be built: an invalid base URL or argument. Nothing was sent. */
export class RequestBuildError extends PocketenvError {
  override name = 'RequestBuildError';
}

/** A wait gave up because the sandbox reached a state it will not leave by itself (e.g. `ERROR`). */
export class SandboxStateError extends PocketenvError {
  override name = 'SandboxStateError';
  constructor(
    /** The status the sandbox is in. */
    readonly status: string,
    message: string,
  ) {
    super(message);
  }
}
