import { type Client, pocketenv, type SandboxView as Sandbox, type SandboxPage, sandbox } from '@pocketenv/sdk';
import { defineCommand } from '../command';
import type { CliContext } from '../context';
import { sandboxTable } from '../output/sandboxes';

const PAGE = 100;

interface ListOptions {
  json?: boolean;
}

export const ls = defineCommand<Record<string, never>, ListOptions>({
  name: 'ls',
  aliases: ['list'],
  description: 'List your sandboxes',
  connects: true,
  options: [{ flags: '--json', description: 'Print the sandboxes as a JSON array' }],
  async run(ctx, _args, opts) {
    const client = ctx.client(opts);
    const all = await ctx.spin('Listing sandboxes', () => collect((limit, offset) => sandbox.list(client, limit, offset)));
    show(ctx, all, opts, false);
  },
});

export const ps = defineCommand<Record<string, never>, ListOptions>({
  name: 'ps',
  description: 'List your running sandboxes',
  connects: true,
  options: [{ flags: '--json', description: 'Print the sandboxes as a JSON array' }],
  async run(ctx, _args, opts) {
    const client = ctx.client(opts);
    const all = await ctx.spin('Listing running sandboxes', () => running(client));
    show(ctx, all, opts, true);
  },
});

async function running(client: Client): Promise<Sandbox[]> {
  const me = await pocketenv.getProfile(client);
  return collect((limit, offset) => sandbox.getActorSandboxes(client, me.did, limit, offset, { isRunning: true }));
}

/** Every page, in order, until `total` is reached (or a page comes back empty). */
async function collect(fetchPage: (limit: number, offset: number) => Promise<SandboxPage>): Promise<Sandbox[]> {
  const all: Sandbox[] = [];
  for (;;) {
    const page = await fetchPage(PAGE, all.length);
    all.push(...page.sandboxes);
    if (page.sandboxes.length === 0 || all.length >= page.total) return all;
  }
}

function show(ctx: CliContext, sandboxes: Sandbox[], opts: ListOptions, uptime: boolean): void {
  if (opts.json) ctx.json(sandboxes);
  else ctx.stdout.write(sandboxTable(sandboxes, ctx.out, { uptime }));
}
