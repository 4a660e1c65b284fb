import { type Secret, secrets } from '@pocketenv/sdk';
import { defineCommand } from '../command';
import { renderTable } from '../output/table';
import { ago } from '../output/time';
import { findSandbox } from '../resolve';
import { readSecretValue } from './attachment-input';
import { collectPages, findBy } from './attachment-list';

const putSecret = defineCommand<{ sandbox: string; name: string }, { json?: boolean }>({
  name: 'put',
  aliases: ['set'],
  description: 'Set a secret: its value is sealed here, stored sealed, and only ever put into the sandbox’s environment',
  args: [
    { name: 'sandbox', description: 'name or id' },
    { name: 'name', description: 'secret name, e.g. API_TOKEN' },
  ],
  connects: true,
  options: [{ flags: '--json', description: 'print the secret (id and name) as JSON' }],
  helpText: [
    'The value comes from stdin when it is piped (trailing whitespace removed), else from a prompt',
    'that does not echo; never from the command line:',
    '  printf %s "$TOKEN" | pocketenv secret put my-box API_TOKEN',
  ].join('\n'),
  async run(ctx, args, opts) {
    const sb = await findSandbox(ctx.client(opts), args.sandbox);
    const value = await readSecretValue(ctx, 'Secret value');
    const secret = await secrets.put(sb, args.name, value);
    if (opts.json) return ctx.json(secret);
    ctx.print(`Set secret ${secret.name} in ${sb.name}`);
  },
});

const listSecrets = defineCommand<{ sandbox: string }, { json?: boolean }>({
  name: 'ls',
  aliases: ['list'],
  description: 'List the secrets of a sandbox (names only: values are never shown)',
  args: [{ name: 'sandbox', description: 'name or id' }],
  connects: true,
  options: [{ flags: '--json', description: 'print the secrets as a JSON array' }],
  async run(ctx, args, opts) {
    const sb = await findSandbox(ctx.client(opts), args.sandbox);
    const all = await allSecrets(sb);
    if (opts.json) return ctx.json(all);
    const now = Date.now();
    ctx.stdout.write(renderTable(['ID', 'NAME', 'CREATED AT'], all.map((s) => [s.id, ctx.out.cyan(s.name), ago(s.createdAt, now)]), ctx.out));
  },
});

const deleteSecret = defineCommand<{ target: string; name?: string }>({
  name: 'delete',
  aliases: ['rm', 'remove'],
  description: 'Remove a secret, by id, or by sandbox and name',
  args: [
    { name: 'target', description: 'the secret id (sec_…), or the sandbox when a name follows' },
    { name: 'name', description: 'the secret name', required: false },
  ],
  connects: true,
  async run(ctx, args, opts) {
    const client = ctx.client(opts);
    let secret: Pick<Secret, 'id' | 'name'> = { id: args.target, name: args.target };
    if (args.name !== undefined) {
      const sb = await findSandbox(client, args.target);
      secret = findBy(await allSecrets(sb), 'name', args.name, 'secret', sb.name);
    }
    await secrets.delete(client, secret.id);
    ctx.print(`Deleted secret ${secret.name}`);
  },
});

function allSecrets(sb: Parameters<typeof secrets.list>[0]): Promise<Secret[]> {
  return collectPages(async (limit, offset) => {
    const page = await secrets.list(sb, limit, offset);
    return { items: page.secrets, total: page.total };
  });
}

export const secretCommand = defineCommand({
  name: 'secret',
  description: 'Manage the secrets of a sandbox (sealed environment variables)',
  subcommands: [putSecret, listSecrets, deleteSecret],
});
