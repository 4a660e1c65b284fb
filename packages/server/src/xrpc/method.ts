/**
 * Typed method registration: parameter, input and output types come from the types the
 * lexicons package generates, so a handler cannot drift from its lexicon without tsc noticing.
 */
import type { Request, Response } from 'express';
import type { Server } from '@atproto/xrpc-server';
import type { XrpcMethods } from '@pocketenv/lexicons';
import type { Actor } from '../db/schema';
import type { AppContext } from '../context';
import { requireActor, type ActorCredentials } from './auth';

export type Nsid = keyof XrpcMethods;

export interface HandlerArgs<N extends Nsid> {
  params: XrpcMethods[N]['params'];
  input: XrpcMethods[N]['input'];
  req: Request;
}

export interface AuthedHandlerArgs<N extends Nsid> extends HandlerArgs<N> {
  actor: Actor;
  /** The response being prepared (e.g. to notice the client going away). */
  res: Response;
}

/** A method anyone may call. */
export function publicMethod<N extends Nsid>(
  server: Server,
  nsid: N,
  handler: (args: HandlerArgs<N>) => Promise<XrpcMethods[N]['output']>,
): void {
  server.method(nsid, {
    handler: async ({ params, input, req }) => {
      const body = await handler({ params: params as HandlerArgs<N>['params'], input: input?.body, req });
      return { encoding: 'application/json', body };
    },
  });
}

/** A method that needs a valid bearer token; the handler gets the caller. */
export function authedMethod<N extends Nsid>(
  server: Server,
  ctx: AppContext,
  nsid: N,
  handler: (args: AuthedHandlerArgs<N>) => Promise<XrpcMethods[N]['output']>,
): void {
  server.method(nsid, {
    auth: requireActor(ctx.actors),
    handler: async ({ params, input, req, res, auth }) => {
      const actor = (auth as ActorCredentials).credentials;
      const body = await handler({ actor, params: params as HandlerArgs<N>['params'], input: input?.body, req, res });
      return { encoding: 'application/json', body };
    },
  });
}
