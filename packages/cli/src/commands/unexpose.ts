import { network } from '@pocketenv/sdk';
import { defineCommand } from '../command';
import { findSandbox } from '../resolve';
import { portArg } from './port-arg';

export const unexpose = defineCommand<{ sandbox: string; port: string }>({
  name: 'unexpose',
  description: 'Stop exposing a port: its preview URL stops working',
  args: [
    { name: 'sandbox', description: 'name or id' },
    { name: 'port', description: 'the exposed port' },
  ],
  connects: true,
  async run(ctx, args, opts) {
    const port = portArg(args.port);
    const sb = await findSandbox(ctx.client(opts), args.sandbox);
    await network.unexpose(sb, port);
    ctx.print(`Port ${port} of ${sb.name} is no longer exposed`);
  },
});
