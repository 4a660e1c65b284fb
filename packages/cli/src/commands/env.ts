import { env, type Variable } from '@pocketenv/sdk';
import { defineCommand } from '../command';
import { renderTable } from '../output/table';
import { ago } from '../output/time';
import { findSandbox } from '../resolve';
import { collectPages, findBy } from './attachment-list';

const putVariable = defineCommand<{ sandbox: string; name: string; value: string }, { json?: boolean }>({
  name: 'put',
  aliases: ['set'],
  description: 'Set an environment variable (adds it, or changes the value of the one with that name)',
  args: [
    { name: 'sandbox', description: 'name or id' },
    { name: 'name', description: 'variable name, e.g. NODE_ENV' },
    { name: 'value', description: 'its value (shown by `env ls`: use `secret put` for anything secret)' },
  ],
  connects: true,
  options: [{ flags: '--json', description: 'print the variable as JSON' }],
  helpText: 'The next command, terminal or service in the sandbox sees it; no restart needed.',
  async run(ctx, args, opts) {
    const sb = await findSandbox(ctx.client(opts), args.sandbox);
    const variable = await env.put(sb, args.name, args.value);
    if (opts.json) return ctx.json(variable);
    ctx.print(`Set ${variable.name} in ${sb.name}`);
  },
});

const listVariables = defineCommand<{ sandbox: string }, { json?: boolean }>({
  name: 'ls',
  aliases: ['list'],
  description: 'List the environment variables of a sandbox, with their values',
  args: [{ name: 'sandbox', description: 'name or id' }],
  connects: true,
  options: [{ flags: '--json', description: 'print the variables as a JSON array' }],
  async run(ctx, args, opts) {
    const sb = await findSandbox(ctx.client(opts), args.sandbox);
    const all = await collectPages(async (limit, offset) => {
      const page = await env.list(sb, limit, offset);
      return { items: page.variables, total: page.total };
    });
    if (opts.json) return ctx.json(all);
    const now = Date.now();
    ctx.stdout.write(renderTable(['ID', 'NAME', 'VALUE', 'CREATED AT'], all.map((v) => [v.id, ctx.out.cyan(v.name), v.value, ago(v.createdAt, now)]), ctx.out));
  },
});

const deleteVariable = defineCommand<{ target: string; name?: string }>({
  name: 'delete',
  aliases: ['rm', 'remove'],
  description: 'Remove a variable, by id, or by sandbox and name',
  args: [
    { name: 'target', description: 'the variable id (var_…), or the sandbox when a name follows' },
    { name: 'name', description: 'the variable name', required: false },
  ],
  connects: true,
  async run(ctx, args, opts) {
    const client = ctx.client(opts);
    let variable: Pick<Variable, 'id' | 'name'> = { id: args.target, name: args.target };
    if (args.name !== undefined) {
      const sb = await findSandbox(client, args.target);
      const all = await collectPages(async (limit, offset) => {
        const page = await env.list(sb, limit, offset);
        return { items: page.variables, total: page.total };
      });
      variable = findBy(all, 'name', args.name, 'variable', sb.name);
    }
    await env.delete(client, variable.id);
    ctx.print(`Deleted variable ${variable.name}`);
  },
});

export const envCommand = defineCommand({
  name: 'env',
  description: 'Manage the environment variables of a sandbox',
  subcommands: [putVariable, listVariables, deleteVariable],
});
