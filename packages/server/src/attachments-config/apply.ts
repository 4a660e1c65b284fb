/**
 * "Applied at once to a running sandbox": a change is stored, then put into the sandbox if it
 * is running, both under the sandbox's lifecycle lock. So a start that runs concurrently either
 * read the change already (it reads the stores) or runs after us; nothing falls in between.
 * If the sandbox refuses the change (a path it will not write), the change is undone and the
 * caller gets the error: a stored file that can never be written would fail every later start.
 */
import type { Provider } from '@pocketenv/runtime';
import { PathEscapeError, ProviderError, SandboxMissingError, SandboxNotRunningError } from '@pocketenv/runtime';
import type { AppContext } from '../context';
import type { SandboxRecord } from '../db/schema';
import { InvalidInputError, ProviderFailureError, describeFailure } from '../errors';

export interface ChangeStep<T> {
  /** Stores the change; returns what `apply` and `undo` need. */
  change(): Promise<T>;
  /** Puts the change into the running sandbox. */
  apply(provider: Provider, running: SandboxRecord, changed: T): Promise<void>;
  /** Reverts `change` after `apply` failed. */
  undo(changed: T): Promise<void>;
  /** The request field a refused path is blamed on (e.g. `file.path`). */
  field: string;
  /** What is being applied, for messages (e.g. `file /etc/app.conf`). */
  what: string;
}

export function changeThenApply<T>(ctx: AppContext, record: SandboxRecord, step: ChangeStep<T>): Promise<T> {
  return ctx.orchestrator.withLock(record.id, async () => {
    const changed = await step.change();
    const fresh = await ctx.sandboxes.findById(record.id);
    if (fresh?.status !== 'RUNNING') return changed; // applied by the next start
    try {
      await step.apply(ctx.orchestrator.providerOf(fresh), fresh, changed);
      return changed;
    } catch (err) {
      // The record said RUNNING but the sandbox is not: the change stays for the next start.
      if (err instanceof SandboxNotRunningError || err instanceof SandboxMissingError) return changed;
      await step.undo(changed).catch((undoErr: unknown) => ctx.log.error('config.undo failed', { sandbox: record.id, what: step.what, err: undoErr }));
      throw explainApplyFailure(err, record, step);
    }
  });
}

/**
 * What the local provider says (as a plain ProviderError) when the sandbox's own filesystem
 * makes a path unwritable: that is the caller's path, not a provider failure.
 * NOTE: matched on the message until the runtime gives these a type of their own.
 */
const UNWRITABLE_PATH = /is a directory|is not a regular file|a path component is not a directory|is on a read-only volume/;

function explainApplyFailure(err: unknown, record: SandboxRecord, step: { field: string; what: string }): Error {
  if (err instanceof PathEscapeError) return new InvalidInputError(step.field, err.message);
  if (err instanceof ProviderError && UNWRITABLE_PATH.test(err.message)) return new InvalidInputError(step.field, err.message);
  if (err instanceof ProviderError) {
    return new ProviderFailureError(`${step.what} could not be written into ${record.name}: ${describeFailure(err)}; nothing was changed`, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}
