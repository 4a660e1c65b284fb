/**
 * Terminal tokens: what `actor.getTerminalToken` hands out so a client can open a terminal
 * WebSocket with the token in the URL (browsers cannot set headers on a WebSocket).
 *
 * A URL ends up in places a header does not (proxy logs, browser history), so these tokens are
 * weak on purpose: random, bound to the actor that asked, valid for TERMINAL_TOKEN_TTL_MS, good
 * for ONE terminal (consumed atomically when the socket opens), and stored only as a sha256.
 * They authorize nothing but the terminal route; every sandbox is still owner-checked.
 */
import { randomBytes } from 'node:crypto';
import type { Db } from '../db/index';
import type { Actor } from '../db/schema';
import { hashToken } from '../identity/tokens';
import { newId, nowIso } from '../ids';

export const TERMINAL_TOKEN_TTL_MS = 60_000;

/** Terminal tokens carry a prefix so they are never mistaken for (or tried as) bearer tokens. */
export const TERMINAL_TOKEN_PREFIX = 'ptt_';

export class TerminalTokenStore {
  constructor(private readonly db: Db) {}

  async issue(actor: Actor, now = Date.now()): Promise<{ token: string; expiresAt: string }> {
    const token = TERMINAL_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const expiresAt = new Date(now + TERMINAL_TOKEN_TTL_MS).toISOString();
    // Expired tokens are useless; clearing them here keeps the table at a handful of rows.
    await this.db.deleteFrom('terminal_tokens').where('expires_at', '<', new Date(now).toISOString()).execute();
    await this.db
      .insertInto('terminal_tokens')
      .values({ id: newId('tok'), actor_id: actor.id, token_hash: hashToken(token), expires_at: expiresAt, used_at: null, created_at: nowIso() })
      .execute();
    return { token, expiresAt };
  }

  /**
   * The actor the token belongs to, if it is unexpired and unused; it is marked used in the same
   * statement, so two sockets racing with one token cannot both win.
   */
  async consume(token: string, now = Date.now()): Promise<Actor | undefined> {
    if (!token.startsWith(TERMINAL_TOKEN_PREFIX) || token.length > 128) return undefined;
    const hash = hashToken(token);
    const nowText = new Date(now).toISOString();
    const claimed = await this.db
      .updateTable('terminal_tokens')
      .set({ used_at: nowText })
      .where('token_hash', '=', hash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', nowText)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) return undefined;
    return this.db
      .selectFrom('terminal_tokens')
      .innerJoin('actors', 'actors.id', 'terminal_tokens.actor_id')
      .selectAll('actors')
      .where('terminal_tokens.token_hash', '=', hash)
      .executeTakeFirst();
  }
}
