/**
 * The HTTP app: request ids and access logs, body normalisation, the XRPC router, and a
 * last error handler that uses the same mapping as XRPC (errors.ts).
 */
import { randomUUID } from 'node:crypto';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { AppContext } from './context';
import { toXrpcError } from './errors';
import { features } from './features';
import { runWithRequestContext } from './log';
import { createXrpcServer } from './xrpc/index';
import { execRateLimit } from './limits/index';
import { normalizeProcedureBody } from './xrpc/normalize-body';

export interface InFlight {
  count: number;
  /** Resolves waiters when count drops to zero. */
  idle: Array<() => void>;
}

/** A client-supplied request id is kept only if it is short and plain, so it is safe to log. */
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function createApp(ctx: AppContext, inFlight: InFlight): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  app.use((req: Request, res: Response, next: NextFunction) => {
    const header = req.headers['x-request-id'];
    const reqId = typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
    res.setHeader('x-request-id', reqId);
    const started = process.hrtime.bigint();
    const reqCtx: { reqId: string; actor?: string } = { reqId };
    inFlight.count++;
    res.once('close', () => {
      inFlight.count--;
      if (inFlight.count === 0) inFlight.idle.splice(0).forEach((resolve) => resolve());
      // The path only: query strings may carry tokens (terminal WebSocket) and are never logged.
      ctx.log.info('request', {
        reqId,
        actor: reqCtx.actor,
        method: req.method,
        path: req.path,
        status: res.statusCode,
        ms: Number((process.hrtime.bigint() - started) / 1_000_000n),
      });
    });
    runWithRequestContext(reqCtx, () => next());
  });

  const xrpc = createXrpcServer(ctx);
  app.get('/', (_req, res) => {
    res.json({ service: 'pocketenv', version: ctx.version });
  });
  app.use('/xrpc/:nsid', execRateLimit(ctx, ctx.config.limits));
  app.use('/xrpc/:nsid', normalizeProcedureBody(xrpc, ctx.config.jsonLimitBytes));
  app.use(xrpc.router);
  for (const feature of features) feature.registerRoutes?.(app, ctx);

  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(Object.assign(new Error(`no route for ${req.method} ${req.path}`), { status: 404, expose: true }));
  });
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const xrpcErr = toXrpcError(err, ctx.config.jsonLimitBytes);
    if (xrpcErr.statusCode >= 500) ctx.log.error('request failed', { status: xrpcErr.statusCode, err });
    res.status(xrpcErr.statusCode).json(xrpcErr.payload);
  });
  return app;
}
