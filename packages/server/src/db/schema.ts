/**
 * Kysely table types. Column conventions keep every query portable between SQLite and
 * Postgres: timestamps are ISO-8601 text, booleans are 0/1 integers, lists are JSON text.
 *
 * NOTE: a column added here needs a new migration in ./migrations (never edit an old one).
 */
import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

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
}

export interface Database {
  actors: ActorTable;
  tokens: TokenTable;
  sandboxes: SandboxTable;
}

export type Actor = Selectable<ActorTable>;
export type SandboxRecord = Selectable<SandboxTable>;
export type NewSandboxRecord = Insertable<SandboxTable>;
export type SandboxUpdate = Updateable<SandboxTable>;
