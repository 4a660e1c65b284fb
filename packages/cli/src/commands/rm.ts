import { sandbox } from '@pocketenv/sdk';
import { defineCommand } from '../command';
import { findSandbox } from '../resolve';

export const rm = defineCommand<{ sandboxes: string[] }>({
  name: 'rm',
  aliases: ['delete', 'remove'],
  description: 'Delete sandboxes and what is attached to them (named volumes are kept)',
  args: [{ name: 'sandboxes', description: 'names or ids', variadic: true }],
  connects: true,
  async run(ctx, args, opts) {
    const client = ctx.client(opts);
    for (const ref of args.sandboxes) {
      try {
        const sb = await findSandbox(client, ref);
        await ctx.spin(`Deleting ${sb.name}`, () => sandbox.delete(sb));
        ctx.print(`Deleted ${ctx.out.cyan(sb.name)}`);
      } catch (error) {
        ctx.fail(error); // go on with the others, like `docker rm a b`
      }
    }
  },
});
