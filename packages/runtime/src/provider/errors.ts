/**
 * One error hierarchy for every provider. The server maps these to wire errors
 * in one place (see packages/server), so a provider never thinks about HTTP.
 */
export class ProviderError extends Error {
  override name = 'ProviderError';
}

/** The provider does not have this capability; the message says what to use instead. */
export class UnsupportedCapabilityError extends ProviderError {
  override name = 'UnsupportedCapabilityError';
  constructor(
    readonly provider: string,
    readonly capability: string,
    hint: string,
  ) {
    super(`the ${provider} provider does not support ${capability}: ${hint}`);
  }
}

/** No sandbox with this id exists on the provider. */
export class SandboxMissingError extends ProviderError {
  override name = 'SandboxMissingError';
  constructor(readonly id: string) {
    super(`sandbox ${id} does not exist on this provider`);
  }
}

/** The operation needs a running sandbox. */
export class SandboxNotRunningError extends ProviderError {
  override name = 'SandboxNotRunningError';
  constructor(readonly id: string) {
    super(`sandbox ${id} is not running; start it first`);
  }
}

/** A path given by the caller points outside the sandbox (`..`, symlinks, relative paths). */
export class PathEscapeError extends ProviderError {
  override name = 'PathEscapeError';
  constructor(readonly path: string, reason: string) {
    super(`refused path ${JSON.stringify(path)}: ${reason}`);
  }
}

/** The host cannot run this provider (not root, no overlayfs, missing packages…). */
export class HostNotReadyError extends ProviderError {
  override name = 'HostNotReadyError';
}

/** The base image is unknown. */
export class UnknownBaseError extends ProviderError {
  override name = 'UnknownBaseError';
  constructor(readonly base: string, readonly available: string[]) {
    super(`unknown base ${JSON.stringify(base)}; available: ${available.join(', ')}`);
  }
}
