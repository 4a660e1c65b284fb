import { sandbox } from '@pocketenv/sdk';
import { defineCommand } from '../command';
import { forEachSandbox } from './each-sandbox';

export const stop = defineCommand<{ sandboxes: string[] }>({
  name: 'stop',
  description: 'Stop sandboxes (their files are kept)',
  args: [{ name: 'sandboxes', description: 'names or ids', variadic: true }],
  connects: true,
  async run(ctx, args, opts) {
    await forEachSandbox(ctx, ctx.client(opts), args.sandboxes, { doing: 'Stopping', done: 'Stopped', act: (sb) => sandbox.stop(sb) });
  },
});
