import {
  AuthenticationError,
  ConflictError,
  ForbiddenError,
  HttpError,
  InvalidRequestError,
  NotFoundError,
  NotImplementedError,
  PocketenvError,
  ProviderError,
  SandboxStateError,
  TimeoutError,
} from '@pocketenv/sdk';
import { ConfigError } from '@pocketenv/config';

/**
 * Exit codes the CLI promises (scripts may rely on them). `exec` is the exception: it exits
 * with the remote command's own code.
 */
export const ExitCode = {
  OK: 0,
  /** Anything not listed below (conflict, server error, unreachable server…). */
  GENERIC: 1,
  /** Wrong command line, or an input the server rejected as invalid (400). */
  USAGE: 2,
  /** No token, or a token the server does not accept (401/403). */
  AUTH: 3,
  /** The sandbox (or other thing) does not exist or is not yours (404). */
  NOT_FOUND: 4,
  /** The provider failed to run the sandbox (502, or a sandbox in ERROR). */
  PROVIDER: 5,
} as const;

/** The one error type commands throw: a message for stderr, a stable exit code, maybe a hint. */
export class CLIError extends Error {
  override name = 'CLIError';
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.GENERIC,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Turns anything a command threw into a CLIError, so main prints one line and exits with a stable code. */
export function toCliError(error: unknown): CLIError {
  if (error instanceof CLIError) return error;
  // A bad setting (environment variable): the message names it and says what to use.
  if (error instanceof ConfigError) return new CLIError(error.message, ExitCode.USAGE);
  if (error instanceof AuthenticationError) {
    return new CLIError(
      `not authenticated: ${error.message}`,
      ExitCode.AUTH,
      'pass --token, set POCKETENV_TOKEN, or create a token with `pocketenv token create --handle <name>`',
    );
  }
  if (error instanceof ForbiddenError) return new CLIError(`forbidden: ${error.message}`, ExitCode.AUTH);
  if (error instanceof NotFoundError) return new CLIError(error.message, ExitCode.NOT_FOUND);
  if (error instanceof InvalidRequestError) return new CLIError(`invalid request: ${error.message}`, ExitCode.USAGE);
  if (error instanceof ConflictError) return new CLIError(`conflict: ${error.message}`, ExitCode.GENERIC);
  if (error instanceof ProviderError) return new CLIError(`provider failed: ${error.message}`, ExitCode.PROVIDER);
  if (error instanceof SandboxStateError) return new CLIError(error.message, ExitCode.PROVIDER);
  if (error instanceof NotImplementedError) {
    return new CLIError(`not supported by this server: ${error.message}`, ExitCode.GENERIC);
  }
  if (error instanceof TimeoutError) return new CLIError(error.message, ExitCode.GENERIC);
  if (error instanceof HttpError) {
    return new CLIError(
      error.message,
      ExitCode.GENERIC,
      'is the Pocketenv server running? Start one with `pocketenv serve`, or point --api-url / POCKETENV_API_URL at yours',
    );
  }
  if (error instanceof PocketenvError) return new CLIError(error.message, ExitCode.GENERIC);
  const message = error instanceof Error ? error.message : String(error);
  return new CLIError(`unexpected error: ${message}`, ExitCode.GENERIC);
}
