import { sandbox, type ServerDescription } from '@pocketenv/sdk';
import { buildText, currentBuild, isNotReady, toolBuild, waitForBuild } from '../builds';
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
    'Run this again for a fresh link. The server builds code-server once per machine (a few',
    'minutes, in the background after `pocketenv serve` starts); until it is built this waits',
    'for it and shows its progress (Ctrl+C stops the wait, not the build). Later runs take seconds.',
  ].join('\n'),
  async run(ctx, args, opts) {
    const client = ctx.client(opts);
    const sb = await findRunningSandbox(client, args.sandbox);
    const expose = () => ctx.spin(`Starting VS Code in ${sb.name}`, () => sandbox.exposeVscode(sb));
    let previewUrl: string;
    try {
      previewUrl = await expose();
    } catch (error) {
      if (!isNotReady(error)) throw error;
      // The server started (or moved up) the build and answered at once: wait for it here.
      const find = (d: ServerDescription) => toolBuild(d, 'code-server');
      const now = await currentBuild(client, find);
      ctx.note(ctx.err.dim(`pocketenv: VS Code needs code-server, which the server builds once per machine; ${now ? buildText(now) : 'building'}. Waiting for it…`));
      await waitForBuild(ctx, client, 'Building code-server', find);
      previewUrl = await expose();
    }
    if (opts.json) return ctx.json({ previewUrl });
    ctx.note(ctx.err.green(`VS Code is running in ${sb.name}. Open this link (it signs you in):`));
    ctx.print(previewUrl);
  },
});
