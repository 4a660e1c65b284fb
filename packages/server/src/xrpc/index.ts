/** Builds the XRPC server: lexicon validation from @pocketenv/lexicons, every method, one error mapper. */
import { createServer, type Server } from '@atproto/xrpc-server';
import { loadLexiconDocs } from '@pocketenv/lexicons';
import type { AppContext } from '../context';
import { features } from '../features';
import { NotImplementedError, toXrpcError } from '../errors';
import { registerActorMethods } from './actor';
import { registerExecMethod } from './exec';
import { registerLifecycleMethods } from './sandbox-lifecycle';
import { registerPreferenceMethods } from './preferences';
import { registerReadMethods } from './sandbox-read';
import { registerServerMethods } from './server';

export function createXrpcServer(ctx: AppContext): Server {
  // xrpc-server 0.8 bundles @atproto/lexicon 0.4, whose LexiconDoc type differs nominally from
  // 0.6's (the JSON is the same); hence the cast.
  const docs = loadLexiconDocs() as unknown as NonNullable<Parameters<typeof createServer>[0]>;
  const server = createServer(docs, {
    validateResponse: false,
    payload: { jsonLimit: ctx.config.jsonLimitBytes, textLimit: ctx.config.jsonLimitBytes, blobLimit: ctx.config.jsonLimitBytes },
    // Unknown NSIDs, and lexicon methods this server has no handler for yet, answer 501.
    catchall: (req, _res, next) => next(new NotImplementedError(`method ${req.params.methodId} is not implemented by this server`)),
    errorParser: (err) => {
      const xrpcErr = toXrpcError(err, ctx.config.jsonLimitBytes);
      // 501 (no such method) and 503 (a build is not done yet) are answers, not failures.
      if (xrpcErr.statusCode >= 500 && xrpcErr.statusCode !== 501 && xrpcErr.statusCode !== 503) ctx.log.error('request failed', { status: xrpcErr.statusCode, err });
      return xrpcErr;
    },
  });
  registerServerMethods(server, ctx);
  registerActorMethods(server, ctx);
  registerReadMethods(server, ctx);
  registerLifecycleMethods(server, ctx);
  registerExecMethod(server, ctx);
  registerPreferenceMethods(server, ctx);
  for (const feature of features) feature.registerXrpc?.(server, ctx);
  return server;
}
