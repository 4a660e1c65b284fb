/**
 * 429 answers carry `Retry-After`. The error is thrown deep in a handler (or the
 * orchestrator) where the response is out of reach, so the response of the current request
 * is kept in AsyncLocalStorage and the error sets the header on it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Response } from 'express';

const current = new AsyncLocalStorage<Response>();

export function runWithResponse<T>(res: Response, fn: () => T): T {
  return current.run(res, fn);
}

/** Sets Retry-After (whole seconds, at least 1) on the current request's response, if any. */
export function setRetryAfter(seconds: number): void {
  const res = current.getStore();
  if (res && !res.headersSent) res.setHeader('Retry-After', String(Math.max(1, Math.ceil(seconds))));
}
