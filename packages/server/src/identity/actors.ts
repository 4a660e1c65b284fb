/** Actors and their tokens. Tokens are looked up by hash; revoking sets `revoked_at`. */
import type { Db } from '../db/index';
import type { Actor } from '../db/schema';
import { newId, nowIso } from '../ids';
import { InvalidInputError } from '../errors';
import { isValidHandle, localDid } from './did';
import { generateToken, hashToken } from './tokens';

export interface IssuedToken {
  did: string;
  handle: string;
  token: string;
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
      .executeTakeFirst();
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

  /** Issues a new token; the plain token is returned once and never stored. */
  async issueToken(actor: Actor, label: string): Promise<IssuedToken> {
    const token = generateToken();
    await this.db
      .insertInto('tokens')
      .values({ id: newId('tok'), actor_id: actor.id, token_hash: hashToken(token), label, created_at: nowIso(), revoked_at: null })
      .execute();
    return { did: actor.did, handle: actor.handle, token };
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
