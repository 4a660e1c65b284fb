/**
 * @module @pocketenv/sdk
 * TypeScript client for Pocketenv servers (self-hosted or hosted).
 *
 * The primary surface is the object API, with the official JS SDK's names and shapes (code
 * written for `@pocketenv/sdk` 0.2 runs unchanged), plus streaming exec, file reads, typed
 * errors and `Page<T>`:
 *
 * @example
 * import { Sandbox } from '@pocketenv/sdk';
 *
 * const sb = await Sandbox.create({ base: 'debian' }); // token: POCKETENV_TOKEN or ~/.pocketenv/token.json
 * console.log((await sb.sh`echo hello`).stdout);
 * await sb.delete();
 *
 * The seed-shaped functions (an explicit `Client` record and modules of functions that take
 * it: `pocketenv`, `sandbox`, `env`, …) stay, exported as namespaces below; the object API is
 * built on them.
 */

// --- the object API -------------------------------------------------------------------------
export { Sandbox, type SandboxListOptions } from './object/sandbox';
export { SandboxBuilder } from './object/builder';
export type { ConnectionOptions, ClientChoice } from './object/config';
export type { CreateSandboxOptions } from './object/create-options';
export type { SandboxExecOptions } from './object/exec';
// Exported as values, as the official SDK does; the other sub-resources only as types (reach them through `sb.env`, …).
export { Copy } from './object/copy';
export { SshKeys, generateEd25519SSHKeyPair } from './object/sshkeys';
export type { Env } from './object/env';
export type { Secrets } from './object/secret';
export type { Files, ReadOptions } from './object/file';
export type { Volumes, MountOptions } from './object/volume';
export type { Services, ServiceSettings } from './object/service';
export type { Ports } from './object/ports';
export type { Tailscale } from './object/tailscale';
export type { Backups } from './object/backup';
export type {
  BackupView,
  ExecResult,
  FileView,
  PortView,
  Profile,
  SandboxView,
  SecretView,
  ServiceView,
  SSHKeyPair,
  SshKeysView,
  TailscaleAuthKeyView,
  VariableView,
  VolumeView,
} from './object/views';
export { Page, type KeyedPage, type ListOptions } from './page';
export type { RequestOptions } from './http';
export { seal as encrypt } from './crypto';

// --- errors (both surfaces) -----------------------------------------------------------------
export {
  AbortedError,
  ApiError,
  AuthenticationError,
  ConflictError,
  DecodeError,
  ForbiddenError,
  HttpError,
  InvalidArgumentError,
  InvalidRequestError,
  NotFoundError,
  NotImplementedError,
  PocketenvError,
  ProviderError,
  RateLimitError,
  RequestBuildError,
  SandboxError,
  SandboxNotFoundError,
  SandboxStateError,
  TimeoutError,
} from './errors';
export { ArchiveError, DEFAULT_ARCHIVE_LIMITS, archiveLimitsFromEnv, type ArchiveLimits } from './archive';

// --- the seed-shaped functions --------------------------------------------------------------
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
export type { CallOptions } from './http';
export type { CreateSandboxInput, ExecOptions } from './sandbox-wire';
export type { StartOptions, WaitOptions } from './connected';
export type { SandboxPage, SandboxStatus, ServerDescription } from './types';
export { ConnectedSandbox } from './connected';
export type { Variable, VariablePage } from './env';
export type { Secret, SecretPage } from './secrets';
export type { FilePage, SandboxFile } from './files';
export type { ReadFileOptions } from './read-file';
export type { SshKeyPair } from './sshkeys';
export type { TailscaleAuthKey } from './tailscale';
export type { Volume, VolumeData, VolumeDataPage, VolumePage } from './volume';
export type { Service, ServiceOptions, ServicePage } from './services';
export type { Port } from './ports';
export type { CopyOptions, CopyProgress } from './copy';
