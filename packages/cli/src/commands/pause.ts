import { sandbox } from '@pocketenv/sdk';
import { defineCommand } from '../command';
import { forEachSandbox } from './each-sandbox';

export const pause = defineCommand<{ sandboxes: string[] }>({
  name: 'pause',
  description: 'Pause sandboxes: processes and memory are kept, no CPU is used; any use resumes them',
  args: [{ name: 'sandboxes', description: 'names or ids', variadic: true }],
  connects: true,
  async run(ctx, args, opts) {
    await forEachSandbox(ctx, ctx.client(opts), args.sandboxes, { doing: 'Pausing', done: 'Paused', act: (sb) => sandbox.pause(sb) });
  },
});

export const resume = defineCommand<{ sandboxes: string[] }>({
  name: 'resume',
  description: 'Resume paused sandboxes: their processes go on where they were',
  args: [{ name: 'sandboxes', description: 'names or ids', variadic: true }],
  connects: true,
  async run(ctx, args, opts) {
    await forEachSandbox(ctx, ctx.client(opts), args.sandboxes, { doing: 'Resuming', done: 'Resumed', act: (sb) => sandbox.resume(sb) });
  },
});
