/**
 * The HTTP half of the SSH-style terminal protocol the official CLI uses for daytona and deno
 * sandboxes (the WebSocket half is the `ssh` route in ./routes.ts):
 *
 *   POST   /ssh/connect               X-Sandbox-Id: <id or name>, bearer auth, JSON {cols?, rows?}
 *                                     → {sessionId, expiresAt}: one use, for a minute, by this actor
 *   DELETE /ssh/disconnect/<session>  bearer auth → {} (drops a session that was never used;
 *                                     a terminal in use ends when its WebSocket closes)
 *
 * Errors are the contract's: 401 without a valid token, 404 NotFound for a sandbox that is
 * not the caller's, 400 InvalidRequest for a bad size or a sandbox that is not running.
 */
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { AppContext } from '../context';
import type { Actor } from '../db/schema';
import { InvalidInputError, InvalidStateError, NotFoundError } from '../errors';
import { requireActor, type ActorCredentials } from '../xrpc/auth';
import { DEFAULT_COLS, DEFAULT_ROWS, MAX_CELLS } from './protocol';
import type { SshSessionStore } from './ssh-sessions';

export function registerSshRoutes(app: Express, ctx: AppContext, sessions: SshSessionStore): void {
  const verify = requireActor(ctx.actors);
  // Authentication comes first, so a caller without a token gets 401 whatever the body.
  const authenticate = (req: Request, res: Response, next: NextFunction) => {
    Promise.resolve(verify({ req, res })).then((output) => {
      res.locals.actor = (output as ActorCredentials).credentials;
      next();
    }, next);
  };
  const actorOf = (res: Response) => res.locals.actor as Actor;

  app.post('/ssh/connect', authenticate, express.json({ limit: ctx.config.jsonLimitBytes }), async (req: Request, res: Response, next: NextFunction) => {
    try {
      const actor = actorOf(res);
      const size = sizeOf(req.body);
      const idOrName = req.headers['x-sandbox-id'];
      if (typeof idOrName !== 'string' || idOrName === '') {
        throw new InvalidInputError('X-Sandbox-Id', 'send the header X-Sandbox-Id: <sandbox id or name>');
      }
      const record = await ctx.sandboxes.findOwned(actor.id, idOrName);
      if (!record) throw new NotFoundError(`sandbox ${JSON.stringify(idOrName)} not found`);
      if (record.status !== 'RUNNING') throw new InvalidStateError(`sandbox ${record.name} is ${record.status}, not RUNNING; start it first`);
      res.json(sessions.create(actor.id, record.id, size));
    } catch (err) {
      next(err);
    }
  });

  app.delete('/ssh/disconnect/:sessionId', authenticate, (req: Request, res: Response, next: NextFunction) => {
    if (sessions.drop(String(req.params.sessionId), actorOf(res).id)) res.json({});
    else next(new NotFoundError('no unused SSH session with this id (a terminal in use ends when its WebSocket closes)'));
  });
}

/** The terminal size of the body: both optional (80×24), each an integer from 1 to MAX_CELLS. */
function sizeOf(body: unknown): { cols: number; rows: number } {
  if (body === undefined) return { cols: DEFAULT_COLS, rows: DEFAULT_ROWS };
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidInputError('body', 'send a JSON object {"cols": N, "rows": N}');
  }
  const { cols, rows } = body as { cols?: unknown; rows?: unknown };
  return { cols: cells('cols', cols, DEFAULT_COLS), rows: cells('rows', rows, DEFAULT_ROWS) };
}

function cells(field: string, value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_CELLS) return value;
  throw new InvalidInputError(field, `must be an integer from 1 to ${MAX_CELLS}, got ${JSON.stringify(value)?.slice(0, 40)}`);
}
