import { sandbox } from '@pocketenv/sdk';
import { defineCommand } from '../command';
import { findSandbox } from '../resolve';

export const start = defineCommand<{ sandbox: string }, { repo?: string; keepAlive?: boolean }>({
  name: 'start',
  description: 'Start a sandbox and wait until it is running',
  args: [{ name: 'sandbox', description: 'name or id' }],
  connects: true,
  options: [
    { flags: '-r, --repo <url>', description: 'also clone this git repository into the workspace' },
    { flags: '-k, --keep-alive', description: 'never stop it for being idle' },
  ],
  async run(ctx, args, opts) {
    const client = ctx.client(opts);
    const sb = await findSandbox(client, args.sandbox);
    await ctx.spin(`Starting ${sb.name}`, () => sandbox.start(sb, opts.repo, opts.keepAlive));
    ctx.print(`Started ${ctx.out.cyan(sb.name)}`);
    ctx.note(ctx.err.dim(`Run a command with: pocketenv exec ${sb.name} -- <command>`));
  },
});
