/** Offline administration (used by `pocketenv token …`): works while the server runs (SQLite WAL). */
import path from 'node:path';
import { type Env, settingsFrom } from '@pocketenv/config';
import { defaultDataDir } from './config';
import { ensureDataDir } from './data-dir';
import { openDatabase, type Db } from './db/index';
import { ActorStore, type IssuedToken, type TokenInfo } from './identity/actors';

export interface AdminOptions {
  dataDir?: string;
  databaseUrl?: string;
  /** Where unset options come from (POCKETENV_DATA_DIR, DATABASE_URL, POCKETENV_DID_HOST); default the process's environment. */
  env?: Env;
}

async function withActors<T>(opts: AdminOptions, fn: (actors: ActorStore) => Promise<T>): Promise<T> {
  const env = opts.env ?? process.env;
  const settings = settingsFrom(env);
  const dataDir = path.resolve(opts.dataDir ?? defaultDataDir(env));
  const databaseUrl = opts.databaseUrl ?? settings.string('DATABASE_URL');
  const didHost = settings.string('POCKETENV_DID_HOST', 'localhost');
  await ensureDataDir(dataDir);
  const db: Db = await openDatabase({ dataDir, databaseUrl });
  try {
    return await fn(new ActorStore(db, didHost));
  } finally {
    await db.destroy();
  }
}

/**
 * Creates the actor `handle` if needed and issues it a new token (shown once), labelled
 * `label` (default `cli`), valid for `ttlMs` when given (else until revoked).
 */
export function createActorToken(opts: AdminOptions & { handle: string; label?: string; ttlMs?: number }): Promise<IssuedToken> {
  return withActors(opts, async (actors) => actors.issueToken(await actors.ensureActor(opts.handle), opts.label ?? 'cli', opts.ttlMs));
}

/** Every token (of one actor with `handle`), without the secrets. */
export function listTokens(opts: AdminOptions & { handle?: string }): Promise<TokenInfo[]> {
  return withActors(opts, (actors) => actors.listTokens(opts.handle));
}

/** Revokes the token with this id (`tok_…`); resolves false when there is no such active token. */
export function revokeTokenById(opts: AdminOptions & { id: string }): Promise<boolean> {
  return withActors(opts, (actors) => actors.revokeTokenById(opts.id));
}

/** Revokes a token; resolves true when it was active. */
export function revokeToken(opts: AdminOptions & { token: string }): Promise<boolean> {
  return withActors(opts, (actors) => actors.revokeToken(opts.token));
}
