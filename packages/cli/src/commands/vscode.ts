import { sandbox } from '@pocketenv/sdk';
import { defineCommand } from '../command';
import { findRunningSandbox } from '../resolve';

export const vscode = defineCommand<{ sandbox: string }, { json?: boolean }>({
  name: 'vscode',
  aliases: ['code', 'code-server'],
  description: 'Open VS Code in the browser for a running sandbox; prints its sign-in link',
  args: [{ name: 'sandbox', description: 'name or id' }],
  options: [{ flags: '--json', description: 'print {"previewUrl": …} instead of text' }],
  connects: true,
  helpText: [
    'The link signs you in: it is good for 10 minutes, and opening it sets a cookie that keeps',
    'you signed in to this sandbox’s VS Code for 12 hours. Without it the editor answers 401.',
    'Run this again for a fresh link. The first run on a machine installs code-server once',
    '(a few minutes); later runs take seconds.',
  ].join('\n'),
  async run(ctx, args, opts) {
    const client = ctx.client(opts);
    const sb = await findRunningSandbox(client, args.sandbox);
    const previewUrl = await ctx.spin(`Starting VS Code in ${sb.name}`, () => sandbox.exposeVscode(sb));
    if (opts.json) return ctx.json({ previewUrl });
    ctx.note(ctx.err.green(`VS Code is running in ${sb.name}. Open this link (it signs you in):`));
    ctx.print(previewUrl);
  },
});
