/** Offline administration (used by `pocketenv token …`): works while the server runs (SQLite WAL). */
import path from 'node:path';
import { defaultDataDir } from './config';
import { ensureDataDir } from './data-dir';
import { openDatabase, type Db } from './db/index';
import { ActorStore, type IssuedToken, type TokenInfo } from './identity/actors';

export interface AdminOptions {
  dataDir?: string;
  databaseUrl?: string;
}

async function withActors<T>(opts: AdminOptions, fn: (actors: ActorStore) => Promise<T>): Promise<T> {
  const dataDir = path.resolve(opts.dataDir ?? defaultDataDir());
  await ensureDataDir(dataDir);
  const db: Db = await openDatabase({ dataDir, databaseUrl: opts.databaseUrl ?? (process.env.DATABASE_URL || undefined) });
  try {
    return await fn(new ActorStore(db, process.env.POCKETENV_DID_HOST || 'localhost'));
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
