import { pocketenv, type ServerDescription } from '@pocketenv/sdk';
import { buildText } from '../builds';
import { defineCommand } from '../command';
import { renderTable } from '../output/table';

export const bases = defineCommand<Record<string, never>, { json?: boolean }>({
  name: 'bases',
  aliases: ['images'],
  description: 'List the bases sandboxes can be created from, and how far their builds are',
  connects: true,
  options: [{ flags: '--json', description: 'print {"bases": […], "tools": […]} as describeServer gives them' }],
  helpText: [
    'The server builds the bases (and code-server, for `pocketenv vscode`) once per machine, in the',
    'background after it starts, one at a time; STATUS is ready, building (with its progress),',
    'queued, failed, or not built (the first create of it builds it).',
  ].join('\n'),
  async run(ctx, _args, opts) {
    // describeServer needs no token: this works against any server you can reach.
    const described = await ctx.spin('Asking the server', () => pocketenv.describeServer(ctx.client(opts)));
    const details: NonNullable<ServerDescription['baseDetails']> = described.baseDetails ?? described.bases.map((name) => ({ name, ready: true }));
    if (opts.json) return ctx.json({ bases: details, tools: described.tools ?? [] });
    const rows = [
      ...details.map((b) => [ctx.out.cyan(b.name), statusOf(b, ctx.out.green), 'base', b.description ?? '']),
      ...(described.tools ?? []).map((t) => [ctx.out.cyan(t.name), statusOf(t, ctx.out.green), 'tool', 'VS Code in the browser (pocketenv vscode)']),
    ];
    ctx.stdout.write(renderTable(['NAME', 'STATUS', 'KIND', 'DESCRIPTION'], rows, ctx.out));
  },
});

function statusOf(b: { status?: string; ready?: boolean; progress?: number; readyInSeconds?: number; error?: string }, green: (s: string) => string): string {
  // Servers without build status report only `ready`.
  const text = buildText({ ...b, status: b.status ?? (b.ready === false ? 'notBuilt' : 'ready') });
  return text === 'ready' ? green(text) : text;
}
