/**
 * The records the object API returns, under the official JS SDK's names. They are the same
 * types the seed-shaped functions return (the lexicon's views), so both surfaces mix freely.
 * @module
 */
export type { Sandbox as SandboxView, ExecResult, Profile } from '../types';
export type { Variable as VariableView } from '../env';
export type { Secret as SecretView } from '../secrets';
export type { SandboxFile as FileView } from '../files';
export type { Volume as VolumeView } from '../volume';
export type { Service as ServiceView } from '../services';
export type { Port as PortView } from '../ports';
export type { SshKeys as SshKeysView, SshKeyPair as SSHKeyPair } from '../sshkeys';
export type { TailscaleAuthKey as TailscaleAuthKeyView } from '../tailscale';
export type { Backup as BackupView } from '../backup';
