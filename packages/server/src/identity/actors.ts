/**
 * Actors and their tokens. Tokens are looked up by hash; revoking sets `revoked_at`; a token
 * past its `expires_at` no longer authenticates (it stays listed, as expired).
 */
import type { Db } from '../db/index';
import type { Actor } from '../db/schema';
import { newId, nowIso } from '../ids';
import { InvalidInputError } from '../errors';
import { isValidHandle, localDid } from './did';
import { generateToken, hashToken } from './tokens';

export interface IssuedToken {
  /** The token's id (`tok_…`), for listing and revoking it; not a secret. */
  id: string;
  did: string;
  handle: string;
  token: string;
  expiresAt: string | null;
}

/** A token as `pocketenv token ls` shows it: never the token itself. */
export interface TokenInfo {
  id: string;
  handle: string;
  did: string;
  label: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  status: 'active' | 'expired' | 'revoked';
}

export class ActorStore {
  constructor(
    private readonly db: Db,
    private readonly didHost: string,
  ) {}

  async findByToken(token: string): Promise<Actor | undefined> {
    return this.db
      .selectFrom('tokens')
      .innerJoin('actors', 'actors.id', 'tokens.actor_id')
      .selectAll('actors')
      .where('tokens.token_hash', '=', hashToken(token))
      .where('tokens.revoked_at', 'is', null)
      .where((eb) => eb.or([eb('tokens.expires_at', 'is', null), eb('tokens.expires_at', '>', nowIso())]))
      .executeTakeFirst();
  }

  /** Whether this server ever issued the token (active, expired or revoked alike). */
  async wasIssued(token: string): Promise<boolean> {
    const row = await this.db.selectFrom('tokens').select('id').where('token_hash', '=', hashToken(token)).executeTakeFirst();
    return row !== undefined;
  }

  async findByDidOrHandle(identifier: string): Promise<Actor | undefined> {
    return this.db
      .selectFrom('actors')
      .selectAll()
      .where((eb) => eb.or([eb('did', '=', identifier), eb('handle', '=', identifier)]))
      .executeTakeFirst();
  }

  async findByHandle(handle: string): Promise<Actor | undefined> {
    return this.db.selectFrom('actors').selectAll().where('handle', '=', handle).executeTakeFirst();
  }

  /** Returns the actor with this handle, creating it when missing. */
  async ensureActor(handle: string, displayName?: string): Promise<Actor> {
    if (!isValidHandle(handle)) {
      throw new InvalidInputError('handle', `handle ${JSON.stringify(handle)} must be lowercase letters, digits, dots or hyphens (1-63 characters)`);
    }
    const existing = await this.findByHandle(handle);
    if (existing) return existing;
    const now = nowIso();
    const actor: Actor = {
      id: newId('act'),
      did: localDid(this.didHost, handle),
      handle,
      display_name: displayName ?? null,
      created_at: now,
      updated_at: now,
    };
    // A concurrent creator (CLI and server at once) may win the race; the unique index decides.
    await this.db.insertInto('actors').values(actor).onConflict((oc) => oc.column('handle').doNothing()).execute();
    return (await this.findByHandle(handle))!;
  }

  /** Issues a new token (valid for `ttlMs` when given); the plain token is returned once and never stored. */
  async issueToken(actor: Actor, label: string, ttlMs?: number): Promise<IssuedToken> {
    const token = generateToken();
    const id = newId('tok');
    const expiresAt = ttlMs === undefined ? null : new Date(Date.now() + ttlMs).toISOString();
    await this.db
      .insertInto('tokens')
      .values({ id, actor_id: actor.id, token_hash: hashToken(token), label, created_at: nowIso(), revoked_at: null, expires_at: expiresAt })
      .execute();
    return { id, did: actor.did, handle: actor.handle, token, expiresAt };
  }

  /** Every token (of one actor when `handle` is given), newest first, without the secrets. */
  async listTokens(handle?: string): Promise<TokenInfo[]> {
    let query = this.db
      .selectFrom('tokens')
      .innerJoin('actors', 'actors.id', 'tokens.actor_id')
      .select(['tokens.id', 'actors.handle', 'actors.did', 'tokens.label', 'tokens.created_at', 'tokens.expires_at', 'tokens.revoked_at'])
      .orderBy('tokens.created_at', 'desc')
      .orderBy('tokens.id');
    if (handle !== undefined) query = query.where('actors.handle', '=', handle);
    const now = nowIso();
    return (await query.execute()).map((t) => ({
      id: t.id,
      handle: t.handle,
      did: t.did,
      label: t.label,
      createdAt: t.created_at,
      expiresAt: t.expires_at,
      revokedAt: t.revoked_at,
      status: t.revoked_at ? 'revoked' : t.expires_at !== null && t.expires_at <= now ? 'expired' : 'active',
    }));
  }

  /** Revokes the token with this id; false when there is none or it was already revoked. */
  async revokeTokenById(id: string): Promise<boolean> {
    const result = await this.db.updateTable('tokens').set({ revoked_at: nowIso() }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Revokes one token; true when it existed and was active. */
  async revokeToken(token: string): Promise<boolean> {
    const result = await this.db
      .updateTable('tokens')
      .set({ revoked_at: nowIso() })
      .where('token_hash', '=', hashToken(token))
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Revokes every active token of an actor carrying this label. */
  async revokeLabel(actor: Actor, label: string): Promise<void> {
    await this.db
      .updateTable('tokens')
      .set({ revoked_at: nowIso() })
      .where('actor_id', '=', actor.id)
      .where('label', '=', label)
      .where('revoked_at', 'is', null)
      .execute();
  }
}
