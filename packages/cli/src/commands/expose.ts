import { network } from '@pocketenv/sdk';
import { defineCommand } from '../command';
import { findSandbox } from '../resolve';
import { portArg } from './port-arg';

export const expose = defineCommand<{ sandbox: string; port: string; description?: string }, { json?: boolean }>({
  name: 'expose',
  description: 'Expose a port of a sandbox and print its preview URL',
  args: [
    { name: 'sandbox', description: 'name or id' },
    { name: 'port', description: 'port the app listens on inside the sandbox (1025-65535)' },
    { name: 'description', description: 'what it is', required: false },
  ],
  connects: true,
  options: [{ flags: '--json', description: 'print {port, previewUrl} as JSON' }],
  helpText: [
    'The preview URL reaches the port over HTTP and WebSocket while the sandbox runs; the app must',
    'listen on 0.0.0.0 (not only 127.0.0.1). Whoever has the URL can use it. It stays across',
    'stop/start and stops working for good with `pocketenv unexpose`.',
  ].join('\n'),
  async run(ctx, args, opts) {
    const port = portArg(args.port);
    const sb = await findSandbox(ctx.client(opts), args.sandbox);
    const previewUrl = await network.expose(sb, port, args.description);
    if (opts.json) return ctx.json({ port, previewUrl });
    ctx.print(`Port ${port} of ${sb.name} exposed`);
    ctx.print(`Preview URL: ${ctx.out.cyan(previewUrl)}`);
  },
});
