/**
 * Clients differ in how they call procedures that need no data: some send no body, some an
 * empty one, some `{}`. xrpc-server is strict (a missing body for a method with an input
 * schema is a 400, a body for one without is a 400). The contract says both forms work, so
 * before xrpc-server sees the request:
 * - a procedure whose input has no required fields gets `{}` when the body is missing/empty;
 * - a procedure without input accepts an empty body or `{}` and sees no body at all.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Server } from '@atproto/xrpc-server';
import { InvalidInputError } from '../errors';

interface ProcedureDef {
  type: 'procedure';
  input?: { schema?: { type?: string; required?: string[] } };
}

export function normalizeProcedureBody(server: Server, jsonLimitBytes: number): RequestHandler {
  const parseJson = express.json({ limit: jsonLimitBytes });
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'POST') return next();
    const def = server.lex.getDef(req.params.nsid ?? '') as ProcedureDef | undefined;
    if (def?.type !== 'procedure') return next();

    if (def.input) {
      const optionalOnly = !def.input.schema?.required?.length;
      if (!optionalOnly || !hasNoBody(req)) return next();
      // Read the (empty) stream to its end so xrpc-server takes req.body as the input.
      req.on('end', () => {
        req.headers['content-type'] = 'application/json';
        req.headers['content-length'] = '2';
        req.body = {};
        (req as Request & { _body?: boolean })._body = true;
        next();
      });
      req.on('error', next);
      req.resume();
      return;
    }

    if (hasNoBody(req)) return next();
    parseJson(req, res, (err?: unknown) => {
      if (err) return next(err);
      const body: unknown = req.body;
      const isEmpty = body === undefined || (typeof body === 'object' && body !== null && Object.keys(body).length === 0);
      if (!isEmpty) return next(new InvalidInputError('body', 'this method takes no request body'));
      delete req.headers['content-length'];
      delete req.headers['transfer-encoding'];
      next();
    });
  };
}

function hasNoBody(req: Request): boolean {
  return req.headers['transfer-encoding'] === undefined && (req.headers['content-length'] === undefined || req.headers['content-length'] === '0');
}
