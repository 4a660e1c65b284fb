import { sandbox } from '@pocketenv/sdk';
import { defineCommand } from '../command';
import { findSandbox } from '../resolve';

export const stop = defineCommand<{ sandboxes: string[] }>({
  name: 'stop',
  description: 'Stop sandboxes (their files are kept)',
  args: [{ name: 'sandboxes', description: 'names or ids', variadic: true }],
  connects: true,
  async run(ctx, args, opts) {
    const client = ctx.client(opts);
    for (const ref of args.sandboxes) {
      try {
        const sb = await findSandbox(client, ref);
        await ctx.spin(`Stopping ${sb.name}`, () => sandbox.stop(sb));
        ctx.print(`Stopped ${ctx.out.cyan(sb.name)}`);
      } catch (error) {
        ctx.fail(error); // go on with the others, like `docker stop a b`
      }
    }
  },
});
