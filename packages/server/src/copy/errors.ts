/** How archive problems reach the wire: too big is 413 PayloadTooLarge, anything else 400 naming the field. */
import { ResponseType, XRPCError } from '@atproto/xrpc-server';
import { ArchiveError } from '@pocketenv/sdk/archive';
import { InvalidInputError, NotFoundError } from '../errors';

/** A 413 with our own message (errors.ts's generic 413 names the JSON body limit). */
export function payloadTooLarge(message: string): XRPCError {
  return new XRPCError(ResponseType.PayloadTooLarge, message, 'PayloadTooLarge');
}

/** Maps an ArchiveError to its wire error; anything else is returned unchanged. */
export function archiveProblem(err: unknown, field: string): unknown {
  if (!(err instanceof ArchiveError)) return err;
  if (err.reason === 'too-large') return payloadTooLarge(`${field}: ${err.message}`);
  return new InvalidInputError(field, `the archive was refused: ${err.message}`);
}

/** The archive's file vanished under us (expired and swept mid-request): say so instead of a 500. */
export function vanished(err: unknown, what: string): unknown {
  return (err as NodeJS.ErrnoException)?.code === 'ENOENT' ? new NotFoundError(`${what} is gone (it expired)`) : err;
}
