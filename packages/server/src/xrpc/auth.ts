/**
 * Bearer-token verification. A missing, malformed, unknown, expired or revoked token is a 401
 * AuthenticationRequired (never a 500); only a database failure is a 500.
 */
import type { Request } from 'express';
import type { AuthVerifier } from '@atproto/xrpc-server';
import type { Actor } from '../db/schema';
import { AuthenticationError } from '../errors';
import type { ActorStore } from '../identity/actors';
import { setRequestActor } from '../log';

export interface ActorCredentials {
  credentials: Actor;
}

/** Tokens are base64url; anything longer than this is not one of ours and not worth hashing. */
const MAX_TOKEN_LENGTH = 512;

export function bearerToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  // Some clients send the literal "null" when they have no token.
  if (!match || match[1] === 'null' || match[1] === 'undefined') return undefined;
  return match[1];
}

/** The actor a bearer token belongs to (unexpired, unrevoked); undefined for any other string. */
export function actorOfToken(actors: ActorStore, token: string): Promise<Actor | undefined> {
  return token.length > 0 && token.length <= MAX_TOKEN_LENGTH ? actors.findByToken(token) : Promise.resolve(undefined);
}

const lookups = new WeakMap<Request, Promise<Actor | undefined>>();

/**
 * The actor whose bearer token `req` carries; undefined without one or with one that is not
 * valid. Looked up once per request: the exec rate limit and the method's auth share it.
 */
export function requestActor(actors: ActorStore, req: Request): Promise<Actor | undefined> {
  let lookup = lookups.get(req);
  if (!lookup) {
    const token = bearerToken(req);
    lookup = token !== undefined ? actorOfToken(actors, token) : Promise.resolve(undefined);
    lookups.set(req, lookup);
  }
  return lookup;
}

export function requireActor(actors: ActorStore): AuthVerifier {
  return async ({ req }) => {
    if (bearerToken(req) === undefined) {
      throw new AuthenticationError('a bearer token is required: send "Authorization: Bearer <token>"');
    }
    const actor = await requestActor(actors, req);
    if (!actor) throw new AuthenticationError('the bearer token is invalid, expired or revoked');
    setRequestActor(actor.did);
    return { credentials: actor } satisfies ActorCredentials;
  };
}
