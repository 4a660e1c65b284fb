/**
 * @module @pocketenv/sdk
 * TypeScript client for Pocketenv servers (self-hosted or hosted), shaped like the seed Gleam SDK:
 * an explicit `Client` record, and modules of functions that take it.
 *
 * @example
 * import { pocketenv, sandbox } from '@pocketenv/sdk';
 *
 * const client = pocketenv.newClient();
 * const sb = await sandbox.create(sandbox.withDescription(sandbox.new(client, 'demo', 'debian', 'local'), 'try it'));
 * await sandbox.start(sb);
 * console.log((await sandbox.exec(sb, 'echo hello')).stdout);
 * await sandbox.stop(sb);
 * await sandbox.delete(sb);
 *
 * NOTE: later modules (env, secrets, files, volumes, services, ports, network, copy, backup,
 * sshkeys) go in their own files on top of `http.ts` and take a `ConnectedSandbox`; export
 * each here as a namespace, like `sandbox`.
 */
export * as pocketenv from './pocketenv';
export * as sandbox from './sandbox';
export * as env from './env';
export * as secrets from './secrets';
export * as files from './files';
export * as sshkeys from './sshkeys';
export * as tailscale from './tailscale';
export * as crypto from './crypto';
export * as terminal from './terminal';
export * as copy from './copy';
export * as backup from './backup';
export * as volume from './volume';
export * as services from './services';
export * as ports from './ports';
export * as network from './network';

export type { Client, ClientOptions } from './client';
export { ArchiveError, DEFAULT_ARCHIVE_LIMITS, archiveLimitsFromEnv, type ArchiveLimits } from './archive';
export type { CallOptions } from './http';
export type { SandboxBuilder } from './builder';
export type { CreateSandboxInput, ExecOptions } from './sandbox-wire';
export type { StartOptions, WaitOptions } from './connected';
export type { ExecResult, Profile, Sandbox, SandboxPage, SandboxStatus, ServerDescription } from './types';
export { ConnectedSandbox } from './connected';
export type { Variable, VariablePage } from './env';
export type { Secret, SecretPage } from './secrets';
export type { FilePage, SandboxFile } from './files';
export type { SshKeyPair, SshKeys } from './sshkeys';
export type { TailscaleAuthKey } from './tailscale';
export type { Volume, VolumeData, VolumeDataPage, VolumePage } from './volume';
export type { Service, ServiceOptions, ServicePage } from './services';
export type { Port } from './ports';
export {
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
  PocketenvError,
  ProviderError,
  RateLimitError,
  RequestBuildError,
  SandboxNotFoundError,
  SandboxStateError,
  TimeoutError,
} from './errors';
