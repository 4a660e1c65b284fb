import { sandbox } from '@pocketenv/sdk';
import { defineCommand } from '../command';
import { isolationLevel, positiveNumber, wholeNumber } from './parse';

interface CreateOptions {
  base: string;
  provider: string;
  repo?: string;
  description?: string;
  vcpus?: number;
  memory?: number;
  disk?: number;
  keepAlive?: boolean;
  isolation?: string;
  json?: boolean;
}

export const create = defineCommand<{ name?: string }, CreateOptions>({
  name: 'create',
  aliases: ['new'],
  description: 'Create a sandbox (the server starts it, too)',
  args: [{ name: 'name', description: 'unique name (default: generated, e.g. brave-otter-x1y2)', required: false }],
  connects: true,
  options: [
    { flags: '-b, --base <base>', description: 'base image', default: 'debian' },
    { flags: '-p, --provider <provider>', description: 'provider that runs it', default: 'local' },
    { flags: '-r, --repo <url>', description: 'git repository cloned into the workspace on start' },
    { flags: '-d, --description <text>', description: 'description' },
    { flags: '--vcpus <n>', description: 'virtual CPUs', parse: wholeNumber },
    { flags: '--memory <GiB>', description: 'memory limit in GiB', parse: positiveNumber },
    { flags: '--disk <GiB>', description: 'disk size in GiB (at least 3)', parse: positiveNumber },
    { flags: '-k, --keep-alive', description: 'never stop it for being idle' },
    {
      flags: '--isolation <level>',
      description: "standard, or gvisor (gVisor's kernel between the sandbox and the host; default: the server's)",
      parse: isolationLevel,
    },
    { flags: '--json', description: 'print the new sandbox as JSON' },
  ],
  async run(ctx, args, opts) {
    const client = ctx.client(opts);
    let builder = sandbox.new(client, args.name, opts.base, opts.provider);
    if (opts.description !== undefined) builder = sandbox.withDescription(builder, opts.description);
    if (opts.repo !== undefined) builder = sandbox.withRepo(builder, opts.repo);
    if (opts.vcpus !== undefined) builder = sandbox.withVcpus(builder, opts.vcpus);
    if (opts.memory !== undefined) builder = sandbox.withMemory(builder, opts.memory);
    if (opts.disk !== undefined) builder = sandbox.withDisk(builder, opts.disk);
    if (opts.keepAlive) builder = sandbox.withKeepAlive(builder, true);
    if (opts.isolation !== undefined) builder = sandbox.withIsolation(builder, opts.isolation);

    const sb = await ctx.spin('Creating sandbox', () => sandbox.create(builder));
    if (opts.json) return ctx.json(sb.data);
    ctx.print(`Created sandbox ${ctx.out.cyan(sb.name)} (${sb.id}, ${sb.data.status})`);
    const next = sb.data.status === 'RUNNING' ? `pocketenv exec ${sb.name} -- <command>` : `pocketenv start ${sb.name}`;
    ctx.note(ctx.err.dim(`Next: ${next}`));
  },
});
