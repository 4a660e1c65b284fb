import { access, readFile } from 'node:fs/promises';
import { type SshKeyPair, sshkeys } from '@pocketenv/sdk';
import { defineCommand } from '../command';
import { CLIError, ExitCode } from '../errors';
import { findSandbox } from '../resolve';

interface PutOptions {
  privateKey?: string;
  publicKey?: string;
  generate?: boolean;
}

const putKeys = defineCommand<{ sandbox: string }, PutOptions>({
  name: 'put',
  description: 'Give a sandbox an SSH key pair (installed for root at once if it runs, and at every start)',
  args: [{ name: 'sandbox', description: 'name or id' }],
  connects: true,
  options: [
    { flags: '--private-key <path>', description: 'the private key file (PEM)' },
    { flags: '--public-key <path>', description: 'the public key file (default: <private key>.pub)' },
    { flags: '-g, --generate', description: 'make a new Ed25519 pair here and print its public key' },
  ],
  helpText: [
    'The private key is sealed here; the server never shows it again. In the sandbox it is',
    '/root/.ssh/id_ed25519 (mode 0600) with its .pub, and known_hosts gets github.com,',
    'gitlab.com and bitbucket.org.',
    '  pocketenv sshkeys put my-box --generate        # then add the printed key to your git host',
    '  pocketenv sshkeys put my-box --private-key ~/.ssh/id_ed25519',
  ].join('\n'),
  async run(ctx, args, opts) {
    const pair = opts.generate ? sshkeys.generate() : await readPair(opts);
    const sb = await findSandbox(ctx.client(opts), args.sandbox);
    await sshkeys.put(sb, pair);
    if (opts.generate) ctx.print(pair.publicKey);
    ctx.note(ctx.err.dim(`SSH keys set for ${sb.name}${opts.generate ? ': add the public key above to your git host' : ''}`));
  },
});

async function readPair(opts: PutOptions): Promise<SshKeyPair> {
  if (opts.privateKey === undefined) {
    throw new CLIError('no key given', ExitCode.USAGE, 'pass --private-key <path> (and --public-key <path>), or --generate');
  }
  const publicPath = opts.publicKey ?? `${opts.privateKey}.pub`;
  const read = async (path: string, what: string) => {
    try {
      await access(path);
      return await readFile(path, 'utf8');
    } catch (error) {
      throw new CLIError(`cannot read the ${what} ${path}: ${(error as Error).message}`, ExitCode.USAGE, opts.publicKey === undefined && what === 'public key' ? 'pass --public-key <path>' : undefined);
    }
  };
  return { privateKey: await read(opts.privateKey, 'private key'), publicKey: (await read(publicPath, 'public key')).trim() };
}

const getKeys = defineCommand<{ sandbox: string }, { json?: boolean }>({
  name: 'get',
  description: 'Show a sandbox’s SSH keys: the public key, and the private key masked',
  args: [{ name: 'sandbox', description: 'name or id' }],
  connects: true,
  options: [{ flags: '--json', description: 'print {id, privateKey (masked), publicKey, createdAt} as JSON' }],
  async run(ctx, args, opts) {
    const sb = await findSandbox(ctx.client(opts), args.sandbox);
    const keys = await sshkeys.get(sb);
    if (!keys) {
      throw new CLIError(`${sb.name} has no SSH keys`, ExitCode.NOT_FOUND, `give it some with \`pocketenv sshkeys put ${sb.name} --generate\``);
    }
    if (opts.json) return ctx.json(keys);
    ctx.print(ctx.out.bold('Private key (masked):'));
    ctx.print(keys.privateKey.replace(/\\n/g, '\n'));
    ctx.print(ctx.out.bold('Public key:'));
    ctx.print(keys.publicKey);
  },
});

export const sshkeysCommand = defineCommand({
  name: 'sshkeys',
  description: 'Manage the SSH key pair of a sandbox',
  subcommands: [putKeys, getKeys],
});
