import { type Client, type Volume, volume } from '@pocketenv/sdk';
import { defineCommand } from '../command';
import { renderTable } from '../output/table';
import { ago } from '../output/time';
import { findSandbox } from '../resolve';
import { collectPages, findBy } from './attachment-list';

const putVolume = defineCommand<{ sandbox: string; name: string; path: string }, { readOnly?: boolean; json?: boolean }>({
  name: 'put',
  aliases: ['add'],
  description: 'Mount your volume <name> (created empty when new) at <path> in a sandbox',
  args: [
    { name: 'sandbox', description: 'name or id' },
    { name: 'name', description: 'volume name; the same name in another sandbox mounts the same data' },
    { name: 'path', description: 'absolute mount path inside the sandbox, e.g. /data' },
  ],
  connects: true,
  options: [
    { flags: '--read-only', description: 'mount it read-only' },
    { flags: '--json', description: 'print the volume as JSON' },
  ],
  helpText: 'Mounts change when the sandbox starts: restart a running sandbox (`pocketenv stop`, `pocketenv start`) to mount it now.',
  async run(ctx, args, opts) {
    const sb = await findSandbox(ctx.client(opts), args.sandbox);
    const mounted = await volume.create(sb, args.name, args.path, { readOnly: opts.readOnly === true });
    if (opts.json) return ctx.json(mounted);
    const when = sb.data.status === 'RUNNING' ? 'from its next start' : 'when it starts';
    ctx.print(`Volume ${ctx.out.cyan(mounted.name)} mounted at ${mounted.path}${mounted.readOnly ? ' (read-only)' : ''} in ${sb.name} ${when}`);
  },
});

async function allVolumes(client: Client, sandbox: string): Promise<{ name: string; volumes: Volume[] }> {
  const sb = await findSandbox(client, sandbox);
  const volumes = await collectPages(async (limit, offset) => {
    const page = await volume.list(sb, limit, offset);
    return { items: page.volumes, total: page.total };
  });
  return { name: sb.name, volumes };
}

const listVolumes = defineCommand<{ sandbox: string }, { json?: boolean }>({
  name: 'ls',
  aliases: ['list'],
  description: 'List the volumes mounted in a sandbox',
  args: [{ name: 'sandbox', description: 'name or id' }],
  connects: true,
  options: [{ flags: '--json', description: 'print the volumes as a JSON array' }],
  async run(ctx, args, opts) {
    const { volumes } = await allVolumes(ctx.client(opts), args.sandbox);
    if (opts.json) return ctx.json(volumes);
    const now = Date.now();
    const rows = volumes.map((v) => [v.id, ctx.out.cyan(v.name), v.path, v.readOnly ? 'ro' : 'rw', ago(v.createdAt, now)]);
    ctx.stdout.write(renderTable(['ID', 'NAME', 'PATH', 'MODE', 'CREATED AT'], rows, ctx.out));
  },
});

const deleteVolume = defineCommand<{ target: string; name?: string }>({
  name: 'delete',
  aliases: ['rm', 'remove'],
  description: 'Unmount a volume from its sandbox (from its next start); the data is kept',
  args: [
    { name: 'target', description: 'the volume id (vol_…), or the sandbox when a name follows' },
    { name: 'name', description: 'the volume name', required: false },
  ],
  connects: true,
  helpText: 'The data stays until `pocketenv volume data rm <name>`.',
  async run(ctx, args, opts) {
    const client = ctx.client(opts);
    let target: Pick<Volume, 'id' | 'name'> = { id: args.target, name: args.target };
    if (args.name !== undefined) {
      const { name, volumes } = await allVolumes(client, args.target);
      target = findBy(volumes, 'name', args.name, 'volume', name);
    }
    await volume.delete(client, target.id);
    ctx.print(`Unmounted volume ${target.name} (its data is kept)`);
  },
});

const listData = defineCommand<Record<string, never>, { json?: boolean }>({
  name: 'ls',
  aliases: ['list'],
  description: 'List your volumes’ data, mounted or not, with its size',
  connects: true,
  options: [{ flags: '--json', description: 'print them as a JSON array' }],
  async run(ctx, _args, opts) {
    const client = ctx.client(opts);
    const all = await collectPages(async (limit, offset) => {
      const page = await volume.listData(client, limit, offset);
      return { items: page.volumes, total: page.total };
    });
    if (opts.json) return ctx.json(all);
    const now = Date.now();
    const rows = all.map((v) => [ctx.out.cyan(v.name), v.sizeBytes === undefined ? '-' : String(v.sizeBytes), v.sandboxIds.join(', ') || '-', ago(v.createdAt, now)]);
    ctx.stdout.write(renderTable(['NAME', 'BYTES', 'MOUNTED IN', 'CREATED AT'], rows, ctx.out));
  },
});

const deleteData = defineCommand<{ name: string }>({
  name: 'rm',
  aliases: ['delete', 'remove'],
  description: 'Delete a volume’s data for good (it must not be mounted in any sandbox)',
  args: [{ name: 'name', description: 'the volume name' }],
  connects: true,
  async run(ctx, args, opts) {
    await volume.deleteData(ctx.client(opts), args.name);
    ctx.print(`Deleted the data of volume ${args.name}`);
  },
});

export const volumeCommand = defineCommand({
  name: 'volume',
  description: 'Manage volumes: persistent directories mounted into sandboxes',
  subcommands: [putVolume, listVolumes, deleteVolume, defineCommand({ name: 'data', description: 'Your volumes’ data, mounted or not', subcommands: [listData, deleteData] })],
});
