import { ports as portsApi } from '@pocketenv/sdk';
import { defineCommand } from '../command';
import { renderTable } from '../output/table';
import { findSandbox } from '../resolve';

export const ports = defineCommand<{ sandbox: string }, { json?: boolean }>({
  name: 'ports',
  description: 'List the exposed ports of a sandbox with their preview URLs',
  args: [{ name: 'sandbox', description: 'name or id' }],
  connects: true,
  options: [{ flags: '--json', description: 'print the ports as a JSON array' }],
  async run(ctx, args, opts) {
    const sb = await findSandbox(ctx.client(opts), args.sandbox);
    const all = await portsApi.list(sb);
    if (opts.json) return ctx.json(all);
    const rows = all.map((p) => [String(p.port), p.description ?? '-', p.previewUrl ? ctx.out.cyan(p.previewUrl) : '-']);
    ctx.stdout.write(renderTable(['PORT', 'DESCRIPTION', 'PREVIEW URL'], rows, ctx.out));
  },
});
