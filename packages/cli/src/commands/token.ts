import { defineCommand } from '../command';

const createToken = defineCommand<Record<string, never>, { handle: string; dataDir?: string; json?: boolean }>({
  name: 'create',
  description: 'Create a local actor (if needed) and a new API token for it; the token is shown once',
  options: [
    { flags: '--handle <name>', description: 'handle of the actor the token is for', required: true },
    { flags: '--data-dir <dir>', description: 'server data directory (default: $POCKETENV_DATA_DIR, else ~/.pocketenv)' },
    { flags: '--json', description: 'print {did, handle, token} as JSON' },
  ],
  async run(ctx, _args, opts) {
    // Talks to the server's database directly (an admin command): loaded only when used.
    const { createActorToken } = await import('@pocketenv/server');
    const actor = await createActorToken({ dataDir: opts.dataDir, handle: opts.handle });
    if (opts.json) return ctx.json(actor);
    ctx.print(actor.token);
    ctx.note(ctx.err.dim(`Token for @${actor.handle} (${actor.did}). It is not shown again; use it as:`));
    ctx.note(ctx.err.dim('  export POCKETENV_TOKEN=<token>   or   pocketenv --token <token> …'));
  },
});

export const token = defineCommand({
  name: 'token',
  description: 'Manage API tokens (on this machine’s server)',
  subcommands: [createToken],
});
