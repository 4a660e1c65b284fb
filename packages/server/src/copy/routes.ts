/**
 * The copy store's HTTP side (outside XRPC, as the contract says):
 * - `POST /cp`, multipart/form-data with a part `file` → `{uuid}`;
 * - `GET /cp/<uuid>` → the archive (application/gzip), to its owner only, until it expires.
 * Both take the same bearer tokens as XRPC. An upload is stored as is (only its size is
 * limited, while it streams to disk); its contents are checked when it is unpacked.
 */
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { formatBytes } from '@pocketenv/sdk/archive';
import type { Express, NextFunction, Request, Response } from 'express';
import type { AppContext } from '../context';
import type { Actor } from '../db/schema';
import { NotFoundError } from '../errors';
import { requireActor, type ActorCredentials } from '../xrpc/auth';
import { payloadTooLarge } from './errors';
import { FilePartTooLargeError, multipartBoundary, readFilePart } from './multipart';
import type { CopyStore } from './store';

/** Room for the multipart framing around the file when checking Content-Length up front. */
const MULTIPART_SLACK_BYTES = 64 * 1024;
/** After refusing an upload, read (and drop) at most this much more so the client sees the answer. */
const MAX_DISCARD_BYTES = 64 * 1024 * 1024;

export function registerCopyRoutes(app: Express, ctx: AppContext, store: CopyStore): void {
  const config = ctx.config.transfer;
  const verify = requireActor(ctx.actors);
  const authenticate = async (req: Request, res: Response): Promise<Actor> => ((await verify({ req, res })) as ActorCredentials).credentials;

  app.post('/cp', async (req: Request, res: Response, next: NextFunction) => {
    let writer: ReturnType<CopyStore['startWrite']>['writer'] | undefined;
    try {
      const actor = await authenticate(req, res);
      const boundary = multipartBoundary(req.headers['content-type']);
      const declared = Number(req.headers['content-length'] ?? Number.NaN);
      const limit = config.limits.maxArchiveBytes;
      const tooLarge = () => payloadTooLarge(`file: the archive is larger than ${formatBytes(limit)} (POCKETENV_COPY_MAX_BYTES)`);
      if (declared > limit + MULTIPART_SLACK_BYTES) throw tooLarge();
      const started = store.startWrite(limit);
      writer = started.writer;
      await readFilePart(req, boundary, writer).catch((err: unknown) => {
        throw err instanceof FilePartTooLargeError ? tooLarge() : err;
      });
      const stored = await store.commit(actor.id, started.uuid, writer);
      ctx.log.info('copy.upload', { uuid: stored.uuid, size: stored.size });
      res.json({ uuid: stored.uuid });
    } catch (err) {
      await writer?.discard().catch(() => undefined);
      if (!req.readableEnded) {
        // The client may still be sending: never reuse this connection for another request.
        res.setHeader('connection', 'close');
        discardRest(req);
      }
      next(err);
    }
  });

  app.get('/cp/:uuid', async (req: Request, res: Response, next: NextFunction) => {
    try {
      const actor = await authenticate(req, res);
      const uuid = String(req.params.uuid);
      const stored = await store.find(actor.id, uuid);
      if (!stored) throw new NotFoundError(`no archive ${JSON.stringify(uuid)} in the copy store (it may have expired)`);
      // Opened before the headers go out: a sweep in between must not turn into a broken 200.
      const file = createReadStream(store.fileOf(stored.uuid));
      await new Promise<void>((resolve, reject) => file.once('open', () => resolve()).once('error', reject)).catch(() => {
        throw new NotFoundError(`no archive ${JSON.stringify(uuid)} in the copy store (it may have expired)`);
      });
      res.status(200);
      res.setHeader('content-type', 'application/gzip');
      res.setHeader('content-length', String(stored.size));
      res.setHeader('content-disposition', `attachment; filename="${stored.uuid}.tar.gz"`);
      res.setHeader('x-pocketenv-sha256', stored.sha256);
      await pipeline(file, res);
    } catch (err) {
      if (res.headersSent) res.destroy();
      else next(err);
    }
  });
}

/**
 * Reads what is left of a refused upload so the client, still sending, gets to read our
 * answer; a client that keeps sending past MAX_DISCARD_BYTES is cut off.
 */
function discardRest(req: Request): void {
  if (req.destroyed) return;
  let dropped = 0;
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > MAX_DISCARD_BYTES) req.destroy();
  });
  req.resume();
}
