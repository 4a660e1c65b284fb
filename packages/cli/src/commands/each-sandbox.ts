import type { Client, ConnectedSandbox } from '@pocketenv/sdk';
import type { CliContext } from '../context';
import { findSandbox } from '../resolve';

/** What a many-sandbox command does to each one, and the words it reports it with. */
export interface SandboxAction {
  /** Spinner label prefix while it runs, e.g. "Stopping". */
  doing: string;
  /** Line prefix once it is done, e.g. "Stopped". */
  done: string;
  act(sb: ConnectedSandbox): Promise<unknown>;
}

/**
 * Applies `action` to each sandbox in turn. A failure is reported and recorded (the first one
 * decides the exit code) and the others still get their turn, like `docker stop a b`.
 */
export async function forEachSandbox(ctx: CliContext, client: Client, refs: string[], action: SandboxAction): Promise<void> {
  for (const ref of refs) {
    try {
      const sb = await findSandbox(client, ref);
      await ctx.spin(`${action.doing} ${sb.name}`, () => action.act(sb));
      ctx.print(`${action.done} ${ctx.out.cyan(sb.name)}`);
    } catch (error) {
      ctx.fail(error);
    }
  }
}
