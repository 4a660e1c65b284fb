import { sandbox } from '@pocketenv/sdk';
import { defineCommand } from '../command';
import { forEachSandbox } from './each-sandbox';

export const rm = defineCommand<{ sandboxes: string[] }>({
  name: 'rm',
  aliases: ['delete', 'remove'],
  description: 'Delete sandboxes and what is attached to them (named volumes are kept)',
  args: [{ name: 'sandboxes', description: 'names or ids', variadic: true }],
  connects: true,
  async run(ctx, args, opts) {
    await forEachSandbox(ctx, ctx.client(opts), args.sandboxes, { doing: 'Deleting', done: 'Deleted', act: (sb) => sandbox.delete(sb) });
  },
});
