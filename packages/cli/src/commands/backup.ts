import { backup } from '@pocketenv/sdk';
import { defineCommand } from '../command';
import { formatAmount } from '../output/progress';
import { renderTable } from '../output/table';
import { ago, humanDuration } from '../output/time';
import { findRunningSandbox, findSandbox } from '../resolve';
import { durationSeconds } from './parse';

const createBackup = defineCommand<{ sandbox: string; directory: string }, { description?: string; ttl?: number; json?: boolean }>({
  name: 'create',
  description: 'Back up a directory of a running sandbox (kept on the server until it expires)',
  args: [
    { name: 'sandbox', description: 'name or id' },
    { name: 'directory', description: 'absolute path in the sandbox, e.g. /workspace' },
  ],
  connects: true,
  options: [
    { flags: '-d, --description <text>', description: 'what this backup is' },
    { flags: '--ttl <duration>', description: 'how long to keep it: seconds, or 90m, 12h, 7d (default: 3 days)', parse: durationSeconds },
    { flags: '--json', description: 'print {id, expiresAt} as JSON' },
  ],
  async run(ctx, args, opts) {
    const client = ctx.client(opts);
    const sb = await findSandbox(client, args.sandbox);
    const made = await ctx.spin(`Backing up ${args.directory}`, () => backup.create(sb, args.directory, { description: opts.description, ttl: opts.ttl }));
    if (opts.json) return ctx.json(made);
    ctx.print(made.id);
    const expires = made.expiresAt ? ` It expires in ${humanDuration(Date.parse(made.expiresAt) - Date.now())}.` : '';
    ctx.note(ctx.err.dim(`Backed up ${args.directory} of ${sb.name}.${expires} Restore it with: pocketenv backup restore ${made.id}`));
  },
});

const listBackups = defineCommand<{ sandbox: string }, { json?: boolean }>({
  name: 'ls',
  aliases: ['list'],
  description: 'List the backups of a sandbox, newest first',
  args: [{ name: 'sandbox', description: 'name or id' }],
  connects: true,
  options: [{ flags: '--json', description: 'print the backups as a JSON array' }],
  async run(ctx, args, opts) {
    const client = ctx.client(opts);
    const sb = await findSandbox(client, args.sandbox);
    const backups = await ctx.spin('Listing backups', () => backup.list(sb));
    if (opts.json) return ctx.json(backups);
    ctx.stdout.write(backupTable(backups, ctx.out));
  },
});

const restoreBackup = defineCommand<{ backupId: string }, { into?: string }>({
  name: 'restore',
  description: 'Restore a backup: its directory becomes exactly what was backed up',
  args: [{ name: 'backupId', description: 'the id `backup create` printed (bkp_…)' }],
  connects: true,
  options: [{ flags: '--into <sandbox>', description: 'restore into this sandbox instead of the one it was taken from' }],
  helpText: 'Files created in the directory after the backup are removed. The sandbox must be running.',
  async run(ctx, args, opts) {
    const client = ctx.client(opts);
    let into: string | undefined;
    if (opts.into !== undefined) {
      const target = await findRunningSandbox(client, opts.into);
      into = target.id;
    }
    await ctx.spin(`Restoring ${args.backupId}`, () => backup.restoreBackup(client, args.backupId, { into }));
    ctx.print(`Restored ${args.backupId}${opts.into ? ` into ${opts.into}` : ''}`);
  },
});

export const backupCommand = defineCommand({
  name: 'backup',
  description: 'Back up, list and restore sandbox directories',
  subcommands: [createBackup, listBackups, restoreBackup],
});

function backupTable(backups: backup.Backup[], colors: Parameters<typeof renderTable>[2]): string {
  const now = Date.now();
  const rows = backups.map((b) => [
    colors.cyan(b.id),
    b.directory,
    b.description ?? '-',
    b.sizeBytes !== undefined ? formatAmount(b.sizeBytes, 'bytes') : '-',
    ago(b.createdAt, now),
    b.expiresAt ? `in ${humanDuration(Date.parse(b.expiresAt) - now)}` : '-',
  ]);
  return renderTable(['ID', 'DIRECTORY', 'DESCRIPTION', 'SIZE', 'CREATED', 'EXPIRES'], rows, colors);
}
