import { type Client, type Service, services } from '@pocketenv/sdk';
import { defineCommand } from '../command';
import { renderTable } from '../output/table';
import { ago } from '../output/time';
import { findSandbox } from '../resolve';
import { collectPages, findBy } from './attachment-list';
import { wholeNumber } from './parse';

/** A type, not an interface: command args must be indexable (see CommandDef). */
type Target = { target: string; name?: string };

const targetArgs = [
  { name: 'target', description: 'the service id (svc_…), or the sandbox when a name follows' },
  { name: 'name', description: 'the service name', required: false },
];

async function allServices(client: Client, sandbox: string): Promise<{ name: string; list: Service[] }> {
  const sb = await findSandbox(client, sandbox);
  const list = await collectPages(async (limit, offset) => {
    const page = await services.list(sb, limit, offset);
    return { items: page.services, total: page.total };
  });
  return { name: sb.name, list };
}

/** `<service id>` or `<sandbox> <name>` → the service's id and a name to print. */
async function resolve(client: Client, args: Target): Promise<{ id: string; name: string }> {
  if (args.name === undefined) return { id: args.target, name: args.target };
  const { name, list } = await allServices(client, args.target);
  return findBy(list, 'name', args.name, 'service', name);
}

function statusText(s: Service): string {
  return s.status === 'CRASHED' && s.lastExitCode !== undefined ? `CRASHED (exit ${s.lastExitCode})` : s.status;
}

const createService = defineCommand<{ sandbox: string; name: string; command: string[] }, { description?: string; ports?: number[]; json?: boolean }>({
  name: 'create',
  aliases: ['add'],
  description: 'Add a supervised service to a sandbox (started at once when it runs, and with every start)',
  args: [
    { name: 'sandbox', description: 'name or id' },
    { name: 'name', description: 'service name, unique in the sandbox' },
    { name: 'command', description: 'the command (run with sh -c in /workspace)', variadic: true },
  ],
  connects: true,
  options: [
    { flags: '-d, --description <text>', description: 'description' },
    { flags: '-p, --ports <ports...>', description: 'ports it listens on; each gets a preview URL', parse: (value: string, previous: unknown) => [...((previous as number[] | undefined) ?? []), wholeNumber(value)] },
    { flags: '--json', description: 'print the service as JSON' },
  ],
  helpText: [
    'It is restarted with back-off when it exits; `pocketenv service logs` shows its output.',
    "  pocketenv service create my-box web -p 8080 -- python3 -m http.server 8080",
  ].join('\n'),
  async run(ctx, args, opts) {
    const sb = await findSandbox(ctx.client(opts), args.sandbox);
    const service = await services.add(sb, args.name, args.command.join(' '), { description: opts.description, ports: opts.ports });
    if (opts.json) return ctx.json(service);
    ctx.print(`Service ${ctx.out.cyan(service.name)} added to ${sb.name} (${service.id}, ${statusText(service)})`);
    if (service.ports?.length) ctx.note(ctx.err.dim(`Preview URLs: pocketenv ports ${sb.name}`));
  },
});

const listServices = defineCommand<{ sandbox: string }, { json?: boolean }>({
  name: 'ls',
  aliases: ['list'],
  description: 'List the services of a sandbox with their status',
  args: [{ name: 'sandbox', description: 'name or id' }],
  connects: true,
  options: [{ flags: '--json', description: 'print the services as a JSON array' }],
  async run(ctx, args, opts) {
    const { list } = await allServices(ctx.client(opts), args.sandbox);
    if (opts.json) return ctx.json(list);
    const now = Date.now();
    const rows = list.map((s) => {
      const status = statusText(s);
      return [s.id, ctx.out.cyan(s.name), s.command, s.status === 'RUNNING' ? ctx.out.green(status) : status, s.ports?.join(',') || '-', ago(s.createdAt, now)];
    });
    ctx.stdout.write(renderTable(['ID', 'NAME', 'COMMAND', 'STATUS', 'PORTS', 'CREATED AT'], rows, ctx.out));
  },
});

function action(name: 'start' | 'stop' | 'restart', description: string, done: string) {
  return defineCommand<Target>({
    name,
    description,
    args: targetArgs,
    connects: true,
    async run(ctx, args, opts) {
      const client = ctx.client(opts);
      const service = await resolve(client, args);
      await services[name](client, service.id);
      ctx.print(`${done} ${service.name}`);
    },
  });
}

const deleteService = defineCommand<Target>({
  name: 'delete',
  aliases: ['rm', 'remove'],
  description: 'Stop and remove a service, with its logs and exposed ports',
  args: targetArgs,
  connects: true,
  async run(ctx, args, opts) {
    const client = ctx.client(opts);
    const service = await resolve(client, args);
    await services.delete(client, service.id);
    ctx.print(`Deleted service ${service.name}`);
  },
});

const serviceLogs = defineCommand<Target, { lines?: number }>({
  name: 'logs',
  description: 'Print the last lines a service wrote (stdout and stderr, across restarts)',
  args: targetArgs,
  connects: true,
  options: [{ flags: '-n, --lines <n>', description: 'how many lines (1-10000)', default: '200', parse: wholeNumber }],
  async run(ctx, args, opts) {
    const client = ctx.client(opts);
    const service = await resolve(client, args);
    for (const line of await services.logs(client, service.id, { lines: Number(opts.lines) })) ctx.print(line);
  },
});

export const serviceCommand = defineCommand({
  name: 'service',
  description: 'Manage services: supervised long-running processes of a sandbox',
  subcommands: [
    createService,
    listServices,
    action('start', 'Start a stopped service (the sandbox must be running)', 'Started'),
    action('stop', 'Stop a service (it stays stopped until started or the sandbox restarts)', 'Stopped'),
    action('restart', 'Restart a service with its current command and environment', 'Restarted'),
    deleteService,
    serviceLogs,
  ],
});
