/**
 * io.pocketenv.file.*: files written into a sandbox at every start and, when it is running, at
 * once. Content arrives sealed (or in plaintext, as the Gleam SDK sends it, which the server
 * seals) and is stored sealed; it is never returned. The file is owned by
 * the sandbox's root user, mode 0644; missing parent directories are created (root, 0755).
 * Deleting a file attachment stops it being written; the copy in the sandbox is left alone.
 */
import type { Server } from '@atproto/xrpc-server';
import type { AppContext } from '../context';
import { isUniqueViolation } from '../db/errors';
import { ConflictError, NotFoundError } from '../errors';
import { ownedSandbox } from '../xrpc/lookup';
import { authedMethod } from '../xrpc/method';
import { page } from '../xrpc/pagination';
import { changeThenApply } from './apply';
import { acceptSealedInput, openStored } from './sealed';
import type { ConfigStores } from './stores';
import { DEFAULT_ATTACHMENT_PAGE, checkSandboxFilePath } from './validate';
import { fileView } from './views';

const FILE_MODE = 0o644;

function pathTaken(path: string): ConflictError {
  return new ConflictError(`file.path: the sandbox already has a file at ${path}`);
}

export function registerFileMethods(server: Server, ctx: AppContext, { files }: ConfigStores): void {
  const owned = async (actorId: string, id: string) => {
    const row = await files.findOwned(actorId, id);
    if (!row) throw new NotFoundError(`file ${JSON.stringify(id)} not found`);
    return row;
  };

  authedMethod(server, ctx, 'io.pocketenv.file.addFile', async ({ actor, input }) => {
    const record = await ownedSandbox(ctx, actor, input.file.sandboxId);
    const path = checkSandboxFilePath('file.path', input.file.path);
    const { sealed, plain } = await acceptSealedInput(ctx.keys, 'file.content', input.file.content);
    const row = await changeThenApply(ctx, record, {
      field: 'file.path',
      what: `file ${path}`,
      change: async () => {
        try {
          return await files.insert(record.id, path, sealed);
        } catch (err) {
          throw isUniqueViolation(err) ? pathTaken(path) : err;
        }
      },
      apply: (provider, running) => provider.writeFiles(running.id, [{ path, content: plain, mode: FILE_MODE }]),
      undo: (inserted) => files.remove(inserted.id),
    });
    return { file: fileView(row) };
  });

  authedMethod(server, ctx, 'io.pocketenv.file.getFiles', async ({ actor, params }) => {
    const sandboxId = params.sandboxId === undefined ? undefined : (await ownedSandbox(ctx, actor, params.sandboxId)).id;
    const { limit, offset } = page(params, DEFAULT_ATTACHMENT_PAGE);
    const { rows, total } = await files.page(actor.id, sandboxId, limit, offset);
    return { files: rows.map(fileView), total };
  });

  authedMethod(server, ctx, 'io.pocketenv.file.getFile', async ({ actor, params }) => {
    return { file: fileView(await owned(actor.id, params.id)) };
  });

  authedMethod(server, ctx, 'io.pocketenv.file.updateFile', async ({ actor, input }) => {
    const before = await owned(actor.id, input.id);
    const path = input.file.path === undefined ? before.path : checkSandboxFilePath('file.path', input.file.path);
    const opened = input.file.content === undefined ? undefined : await acceptSealedInput(ctx.keys, 'file.content', input.file.content);
    const record = await ctx.sandboxes.findById(before.sandbox_id);
    if (!record) throw new NotFoundError(`file ${JSON.stringify(input.id)} not found`);
    await changeThenApply(ctx, record, {
      field: 'file.path',
      what: `file ${path}`,
      change: async () => {
        try {
          await files.update(before.id, { path, ...(opened ? { sealed_content: opened.sealed } : {}) });
        } catch (err) {
          throw isUniqueViolation(err) ? pathTaken(path) : err;
        }
      },
      apply: async (provider, running) => {
        const content = opened?.plain ?? (await openStored(ctx.keys, `file ${before.path}`, before.sealed_content));
        await provider.writeFiles(running.id, [{ path, content, mode: FILE_MODE }]);
      },
      undo: () => files.restore(before),
    });
    return {};
  });

  authedMethod(server, ctx, 'io.pocketenv.file.deleteFile', async ({ actor, params }) => {
    await files.remove((await owned(actor.id, params.id)).id);
    return {};
  });
}
