/** io.pocketenv.sandbox.pushDirectory and pullDirectory: between a sandbox and the copy store. */
import type { Server } from '@atproto/xrpc-server';
import { inspectArchiveFile } from '@pocketenv/sdk/archive';
import type { AppContext } from '../context';
import { NotFoundError } from '../errors';
import { ownedSandbox } from '../xrpc/lookup';
import { authedMethod } from '../xrpc/method';
import { archiveProblem, vanished } from './errors';
import { packFromSandbox, requireRunning, sandboxPath, unpackIntoSandbox } from './sandbox-tar';
import type { CopyStore } from './store';

export function registerCopyMethods(server: Server, ctx: AppContext, store: CopyStore): void {
  const config = ctx.config.transfer;

  authedMethod(server, ctx, 'io.pocketenv.sandbox.pushDirectory', async ({ actor, input }) => {
    const record = await ownedSandbox(ctx, actor, input.sandboxId);
    const dir = sandboxPath('directoryPath', input.directoryPath);
    requireRunning(record);
    const { uuid, writer } = store.startWrite(config.limits.maxArchiveBytes);
    try {
      await packFromSandbox(ctx, record, dir, writer, { field: 'directoryPath', timeoutMs: config.execTimeoutMs });
      await writer.close();
      // What a sandbox's tar produced is as untrusted as an upload: check it before anyone downloads it.
      await inspectArchiveFile(writer.file, { ...config.limits, symlinks: 'inside-only' }).catch((err: unknown) => {
        throw archiveProblem(err, 'directoryPath');
      });
      const stored = await store.commit(actor.id, uuid, writer);
      ctx.log.info('copy.push', { sandbox: record.id, uuid, size: stored.size });
      return { uuid };
    } catch (err) {
      await writer.discard();
      throw err;
    }
  });

  authedMethod(server, ctx, 'io.pocketenv.sandbox.pullDirectory', async ({ actor, input }) => {
    const record = await ownedSandbox(ctx, actor, input.sandboxId);
    const dir = sandboxPath('directoryPath', input.directoryPath);
    const stored = await store.find(actor.id, input.uuid);
    if (!stored) throw new NotFoundError(`uuid: no archive ${JSON.stringify(input.uuid)} in the copy store (it may have expired)`);
    requireRunning(record);
    const file = store.fileOf(stored.uuid);
    // Checked right before use: this is the guarantee that nothing can escape the directory.
    try {
      await inspectArchiveFile(file, { ...config.limits, symlinks: 'inside-only' }).catch((err: unknown) => {
        throw archiveProblem(err, 'archive');
      });
      await unpackIntoSandbox(ctx, record, file, dir, { field: 'directoryPath', mode: 'merge', timeoutMs: config.execTimeoutMs });
    } catch (err) {
      throw vanished(err, `uuid: archive ${stored.uuid}`);
    }
    ctx.log.info('copy.pull', { sandbox: record.id, uuid: stored.uuid, size: stored.size });
    return {};
  });
}
