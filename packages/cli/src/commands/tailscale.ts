import { tailscale } from '@pocketenv/sdk';
import { defineCommand } from '../command';
import { CLIError, ExitCode } from '../errors';
import { findSandbox } from '../resolve';
import { readSecretValue } from './attachment-input';

const putKey = defineCommand<{ sandbox: string }>({
  name: 'put',
  description: 'Set a sandbox’s Tailscale auth key (sealed here; handed to `tailscale up` in the sandbox)',
  args: [{ name: 'sandbox', description: 'name or id' }],
  connects: true,
  helpText: [
    'The key comes from stdin when it is piped, else from a prompt that does not echo:',
    '  printf %s "$TS_AUTHKEY" | pocketenv tailscale put my-box',
    'Our base images do not include Tailscale: the key is then kept but skipped, and',
    '`pocketenv tailscale get` says so. Install Tailscale (and run tailscaled) in the sandbox to use it.',
  ].join('\n'),
  async run(ctx, args, opts) {
    const sb = await findSandbox(ctx.client(opts), args.sandbox);
    const key = await readSecretValue(ctx, 'Tailscale auth key');
    await tailscale.setAuthKey(sb, key);
    ctx.print(`Tailscale auth key set for ${sb.name}`);
    const applied = await tailscale.getAuthKey(sb);
    if (applied?.note) ctx.note(ctx.err.dim(applied.note));
  },
});

const getKey = defineCommand<{ sandbox: string }, { json?: boolean }>({
  name: 'get',
  description: 'Show a sandbox’s Tailscale auth key (masked) and what happened when it was last applied',
  args: [{ name: 'sandbox', description: 'name or id' }],
  connects: true,
  options: [{ flags: '--json', description: 'print {id, authKey (masked), createdAt, note} as JSON' }],
  async run(ctx, args, opts) {
    const sb = await findSandbox(ctx.client(opts), args.sandbox);
    const key = await tailscale.getAuthKey(sb);
    if (!key) throw new CLIError(`${sb.name} has no Tailscale auth key`, ExitCode.NOT_FOUND, `set one with \`pocketenv tailscale put ${sb.name}\``);
    if (opts.json) return ctx.json(key);
    ctx.print(`Tailscale auth key: ${key.authKey}`);
    if (key.note) ctx.print(`Note: ${key.note}`);
  },
});

export const tailscaleCommand = defineCommand({
  name: 'tailscale',
  description: 'Manage the Tailscale auth key of a sandbox',
  subcommands: [putKey, getKey],
});
