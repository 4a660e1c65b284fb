import { readFile } from 'node:fs/promises';
import { type SandboxFile, files } from '@pocketenv/sdk';
import { defineCommand } from '../command';
import type { CliContext } from '../context';
import { CLIError, ExitCode } from '../errors';
import { renderTable } from '../output/table';
import { ago } from '../output/time';
import { findSandbox } from '../resolve';
import { readPipedStdin } from './attachment-input';
import { collectPages, findBy } from './attachment-list';

const putFile = defineCommand<{ sandbox: string; path: string; localPath?: string }, { json?: boolean }>({
  name: 'put',
  description: 'Attach a file: its content is sealed here and written at <path> in the sandbox (at once if it runs, and at every start)',
  args: [
    { name: 'sandbox', description: 'name or id' },
    { name: 'path', description: 'absolute path inside the sandbox, e.g. /workspace/.env' },
    { name: 'localPath', description: 'the local file to send (default: what is piped to stdin)', required: false },
  ],
  connects: true,
  options: [{ flags: '--json', description: 'print the file (id and path) as JSON' }],
  helpText: [
    'The content is sent byte for byte. The file belongs to root, mode 0644; missing directories are made.',
    '  pocketenv file put my-box /workspace/.env ./.env',
    '  cat config.json | pocketenv file put my-box /etc/app/config.json',
  ].join('\n'),
  async run(ctx, args, opts) {
    const content = await fileContent(ctx, args.localPath);
    const sb = await findSandbox(ctx.client(opts), args.sandbox);
    const file = await ctx.spin(`Writing ${args.path}`, () => files.write(sb, args.path, content));
    if (opts.json) return ctx.json(file);
    ctx.print(`Attached ${file.path} to ${sb.name}${sb.data.status === 'RUNNING' ? ' (written)' : ' (written at its next start)'}`);
  },
});

async function fileContent(ctx: CliContext, localPath: string | undefined): Promise<Uint8Array> {
  if (localPath !== undefined) {
    try {
      return await readFile(localPath);
    } catch (error) {
      throw new CLIError(`cannot read ${localPath}: ${(error as Error).message}`, ExitCode.USAGE);
    }
  }
  if (ctx.stdin.isTTY) {
    throw new CLIError('no content given', ExitCode.USAGE, 'name a local file, or pipe the content: `cat app.env | pocketenv file put <sandbox> <path>`');
  }
  return readPipedStdin(ctx);
}

const listFiles = defineCommand<{ sandbox: string }, { json?: boolean }>({
  name: 'ls',
  aliases: ['list'],
  description: 'List the files attached to a sandbox (paths only)',
  args: [{ name: 'sandbox', description: 'name or id' }],
  connects: true,
  options: [{ flags: '--json', description: 'print the files as a JSON array' }],
  async run(ctx, args, opts) {
    const sb = await findSandbox(ctx.client(opts), args.sandbox);
    const all = await allFiles(sb);
    if (opts.json) return ctx.json(all);
    const now = Date.now();
    ctx.stdout.write(renderTable(['ID', 'PATH', 'CREATED AT'], all.map((f) => [f.id, ctx.out.cyan(f.path), ago(f.createdAt, now)]), ctx.out));
  },
});

const deleteFile = defineCommand<{ target: string; path?: string }>({
  name: 'delete',
  aliases: ['rm', 'remove'],
  description: 'Detach a file, by id, or by sandbox and path (it is no longer written; the copy in the sandbox stays)',
  args: [
    { name: 'target', description: 'the file id (fil_…), or the sandbox when a path follows' },
    { name: 'path', description: 'the file’s path in the sandbox', required: false },
  ],
  connects: true,
  async run(ctx, args, opts) {
    const client = ctx.client(opts);
    let file: Pick<SandboxFile, 'id' | 'path'> = { id: args.target, path: args.target };
    if (args.path !== undefined) {
      const sb = await findSandbox(client, args.target);
      file = findBy(await allFiles(sb), 'path', args.path, 'file', sb.name);
    }
    await files.delete(client, file.id);
    ctx.print(`Detached ${file.path}`);
  },
});

function allFiles(sb: Parameters<typeof files.list>[0]): Promise<SandboxFile[]> {
  return collectPages(async (limit, offset) => {
    const page = await files.list(sb, limit, offset);
    return { items: page.files, total: page.total };
  });
}

export const fileCommand = defineCommand({
  name: 'file',
  description: 'Manage the files attached to a sandbox (sealed, written at start)',
  subcommands: [putFile, listFiles, deleteFile],
});
