import { sandbox } from '@pocketenv/sdk';
import { defineCommand } from '../command';
import { findSandbox } from '../resolve';

export const fork = defineCommand<{ sandbox: string }, { name?: string }>({
  name: 'fork',
  description: "Make a new sandbox whose files are a copy of this one's now (it keeps running)",
  args: [{ name: 'sandbox', description: 'name or id of the sandbox to copy' }],
  connects: true,
  options: [{ flags: '-n, --name <name>', description: 'name of the new sandbox' }],
  async run(ctx, args, opts) {
    const client = ctx.client(opts);
    const sb = await findSandbox(client, args.sandbox);
    const copy = await ctx.spin(`Forking ${sb.name}`, () => sandbox.fork(sb, { name: opts.name }));
    ctx.print(`Forked ${ctx.out.cyan(sb.name)} into ${ctx.out.cyan(copy.name)} (${copy.id}, ${copy.status})`);
  },
});
