import { pocketenv } from '@pocketenv/sdk';
import { defineCommand } from '../command';

export const whoami = defineCommand<Record<string, never>, { json?: boolean }>({
  name: 'whoami',
  description: 'Show who the token belongs to (handle and DID)',
  connects: true,
  options: [{ flags: '--json', description: 'print the profile as JSON' }],
  async run(ctx, _args, opts) {
    const client = ctx.client(opts);
    const me = await ctx.spin('Asking the server', () => pocketenv.getProfile(client));
    if (opts.json) return ctx.json(me);
    ctx.print(`${ctx.out.cyan(`@${me.handle}`)} (${me.did}) on ${client.baseUrl}`);
  },
});
