/**
 * Kysely table types. Column conventions keep every query portable between SQLite and
 * Postgres: timestamps are ISO-8601 text, booleans are 0/1 integers, lists are JSON text.
 *
 * NOTE: a column added here needs a new migration in ./migrations (never edit an old one).
 */
import type { Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { IsolationLevel } from '@pocketenv/runtime';

export interface ActorTable {
  id: string;
  did: string;
  handle: string;
  display_name: string | null;
  created_at: string;
  updated_at: string;
}

export interface TokenTable {
  id: string;
  actor_id: string;
  /** sha256 of the token, hex. The token itself is shown once and never stored. */
  token_hash: string;
  /** Why the token exists: `owner`, `cli`, `session`… */
  label: string;
  created_at: string;
  revoked_at: string | null;
  /** After this time (ISO) the token no longer authenticates; null: it does not expire (migration 0006). */
  expires_at: string | null;
}

/** What the server last observed (or is doing). ERROR carries `error`. */
export type SandboxStatus = 'INITIALIZING' | 'RUNNING' | 'STOPPED' | 'ERROR';
/** What the caller asked for; reconciliation drives the sandbox towards it or explains why not. */
export type DesiredState = 'running' | 'stopped' | 'deleted';

export interface SandboxTable {
  id: string;
  /** Null only for anonymous sandboxes (not created by this server yet). */
  owner_id: string | null;
  name: string;
  display_name: string | null;
  provider: string;
  base: string;
  description: string | null;
  /** JSON array of strings. */
  topics: string | null;
  repo: string | null;
  readme: string | null;
  logo: string | null;
  vcpus: number;
  memory: number;
  disk: number;
  pids: number;
  keep_alive: number;
  installs: Generated<number>;
  status: SandboxStatus;
  /** Why the sandbox is in ERROR (provider message, interrupted transition…). */
  error: string | null;
  desired_state: DesiredState;
  /** 1 once provider.create succeeded: the sandbox's filesystem exists on the provider. */
  provisioned: number;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  last_active_at: string;
  /** `standard` | `gvisor` (migration 0009); fixed at create. */
  isolation: Generated<IsolationLevel>;
}

export interface Database {
  actors: ActorTable;
  tokens: TokenTable;
  sandboxes: SandboxTable;
  terminal_tokens: TerminalTokenTable;
  base_installs: BaseInstallTable;
  variables: VariableTable;
  secrets: SecretTable;
  files: FileTable;
  ssh_keys: SshKeyTable;
  tailscale_keys: TailscaleKeyTable;
  volumes: VolumeTable;
  sandbox_volumes: SandboxVolumeTable;
  services: ServiceTable;
  ports: PortTable;
  copy_objects: CopyObjectTable;
  backups: BackupTable;
}

export type Actor = Selectable<ActorTable>;
export type SandboxRecord = Selectable<SandboxTable>;
export type NewSandboxRecord = Insertable<SandboxTable>;
export type SandboxUpdate = Updateable<SandboxTable>;

// --- configuration attachments (migration 0002) --------------------------------------------

export interface VariableTable {
  id: string;
  sandbox_id: string;
  name: string;
  value: string;
  created_at: string;
  updated_at: string;
}

/** Sealed columns hold the client's sealed box (base64url) unchanged; never plaintext. */
export interface SecretTable {
  id: string;
  sandbox_id: string;
  name: string;
  sealed_value: string;
  created_at: string;
  updated_at: string;
}

export interface FileTable {
  id: string;
  sandbox_id: string;
  /** Absolute, normalised path inside the sandbox. */
  path: string;
  sealed_content: string;
  created_at: string;
  updated_at: string;
}

export interface SshKeyTable {
  sandbox_id: string;
  sealed_private_key: string;
  /** OpenSSH public key line (not secret). */
  public_key: string;
  /** Masked copy of the private key, for display. */
  redacted: string;
  created_at: string;
  updated_at: string;
}

export interface TailscaleKeyTable {
  sandbox_id: string;
  sealed_auth_key: string;
  redacted: string;
  /** What happened the last time the key was applied (or why it was skipped). */
  note: string | null;
  created_at: string;
  updated_at: string;
}

// --- volumes, services, ports (migration 0003) ----------------------------------------------

/** A named volume: data owned by an actor, kept until deleteVolumeData. */
export interface VolumeTable {
  id: string;
  owner_id: string;
  name: string;
  created_at: string;
  updated_at: string;
}

/** A volume mounted into a sandbox at a path: the wire's volume `id` is this row's. */
export interface SandboxVolumeTable {
  id: string;
  sandbox_id: string;
  volume_id: string;
  path: string;
  read_only: number;
  created_at: string;
  updated_at: string;
}

/** A supervised process of a sandbox. `desired_state` is what the owner asked for last. */
export interface ServiceTable {
  id: string;
  sandbox_id: string;
  name: string;
  command: string;
  description: string | null;
  /** JSON array of port numbers. */
  ports: string;
  desired_state: 'running' | 'stopped';
  created_at: string;
  updated_at: string;
}

/** An exposed port; `token` is the secret part of its preview URL. */
export interface PortTable {
  id: string;
  sandbox_id: string;
  port: number;
  description: string | null;
  /** Set when the port was exposed by a service (removed with it). */
  service_id: string | null;
  token: string;
  created_at: string;
}

// --- terminal tokens and base install counts (migration 0005) -------------------------------

/** A short-lived token for one terminal WebSocket; only its sha256 is stored. */
export interface TerminalTokenTable {
  id: string;
  actor_id: string;
  token_hash: string;
  expires_at: string;
  /** Set when a terminal was opened with it: a token opens one terminal only. */
  used_at: string | null;
  created_at: string;
}

/** How many sandboxes were created from each base (describeServer's `installs`). */
export interface BaseInstallTable {
  provider: string;
  base: string;
  installs: number;
}

// --- copy store and backups (migration 0004) ------------------------------------------------

/** An archive in the copy store (<dataDir>/copy/<uuid>.tar.gz), served to its owner until it expires. */
export interface CopyObjectTable {
  uuid: string;
  owner_id: string;
  /** Compressed bytes. A bigint column: Postgres returns it as a string, so read it with Number(). */
  size: number;
  /** sha256 of the archive, hex. */
  sha256: string;
  created_at: string;
  expires_at: string;
}

/** A backup (<dataDir>/backups/<id>.tar.gz). It belongs to the actor; sandbox_id is NULL once its sandbox is deleted. */
export interface BackupTable {
  id: string;
  owner_id: string;
  sandbox_id: string | null;
  /** Absolute path in the sandbox that was archived (and is restored). */
  directory: string;
  description: string | null;
  /** Compressed bytes (bigint; see CopyObjectTable.size). */
  size: number;
  sha256: string;
  created_at: string;
  expires_at: string;
}
