/**
 * Per-actor rate limits and quotas (configured in ./config.ts):
 *  - `execRateLimit`: an express middleware in front of XRPC that answers 429
 *    RateLimitExceeded + Retry-After once an actor sends exec requests faster than its
 *    token bucket allows. It also keeps the response reachable for Retry-After (./retry-after.ts).
 *  - `SandboxQuotas`: checks in the orchestrator's create and start (./quotas.ts).
 */
import type { NextFunction, Request, Response } from 'express';
import type { AppContext } from '../context';
import { requestActor } from '../xrpc/auth';
import type { LimitsConfig } from './config';
import { runWithResponse } from './retry-after';
import { TokenBuckets } from './token-bucket';

export { resolveLimits, DEFAULT_LIMITS, type LimitsConfig } from './config';
export { SandboxQuotas } from './quotas';
export { setRetryAfter } from './retry-after';

const RATE_LIMITED = new Set(['io.pocketenv.sandbox.exec']);

export function execRateLimit(ctx: AppContext, limits: LimitsConfig) {
  const buckets = limits.execRatePerSecond > 0 ? new TokenBuckets(limits.execRatePerSecond, limits.execBurst) : undefined;
  return (req: Request, res: Response, next: NextFunction): void => {
    runWithResponse(res, () => {
      if (!buckets || !RATE_LIMITED.has(req.params.nsid ?? '')) return next();
      requestActor(ctx.actors, req).then(
        (actor) => {
          // No or bad token: the method's own auth answers 401.
          if (!actor) return next();
          const waitS = buckets.take(actor.id);
          if (waitS === 0) return next();
          res.setHeader('Retry-After', String(Math.max(1, Math.ceil(waitS))));
          res.status(429).json({
            error: 'RateLimitExceeded',
            message: `too many exec requests: at most ${limits.execRatePerSecond} per second (burst ${limits.execBurst}) per actor (POCKETENV_EXEC_RATE); retry after ${waitS.toFixed(2)} s`,
          });
        },
        (err: unknown) => next(err),
      );
    });
  };
}
