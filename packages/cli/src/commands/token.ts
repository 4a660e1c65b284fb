/**
 * `pocketenv token …`: admin commands for this machine's server. They talk to its database
 * directly (like `token create` always did), so they work while the server runs and need
 * access to its data directory (or DATABASE_URL).
 */
import type { TokenInfo } from '@pocketenv/server';
import { defineCommand } from '../command';
import { CLIError, ExitCode } from '../errors';
import { renderTable } from '../output/table';
import { ago, humanDuration } from '../output/time';
import { durationSeconds } from './parse';

const DATA_DIR_OPTION = { flags: '--data-dir <dir>', description: 'server data directory (default: $POCKETENV_DATA_DIR, else ~/.pocketenv)' };

// Loaded only when used: it opens the server's database.
const admin = () => import('@pocketenv/server');

const createToken = defineCommand<Record<string, never>, { handle: string; dataDir?: string; expires?: number; label?: string; json?: boolean }>({
  name: 'create',
  description: 'Create a local actor (if needed) and a new API token for it; the token is shown once',
  options: [
    { flags: '--handle <name>', description: 'handle of the actor the token is for', required: true },
    { flags: '--expires <duration>', description: 'the token stops working after this long: seconds, or 90m, 12h, 30d (default: never; revoke it instead)', parse: durationSeconds },
    { flags: '--label <text>', description: 'what the token is for, shown by `token ls` (default: cli)' },
    DATA_DIR_OPTION,
    { flags: '--json', description: 'print {id, did, handle, token, expiresAt} as JSON' },
  ],
  async run(ctx, _args, opts) {
    const { createActorToken } = await admin();
    const issued = await createActorToken({
      env: ctx.env,
      dataDir: opts.dataDir,
      handle: opts.handle,
      label: opts.label,
      ttlMs: opts.expires === undefined ? undefined : opts.expires * 1000,
    });
    if (opts.json) return ctx.json(issued);
    ctx.print(issued.token);
    const until = issued.expiresAt ? `, valid until ${issued.expiresAt}` : '';
    ctx.note(ctx.err.dim(`Token ${issued.id} for @${issued.handle} (${issued.did})${until}. It is not shown again; use it as:`));
    ctx.note(ctx.err.dim('  export POCKETENV_TOKEN=<token>   or   pocketenv --token <token> …'));
  },
});

function expiry(t: TokenInfo, now: number): string {
  if (!t.expiresAt) return 'never';
  const at = Date.parse(t.expiresAt);
  return at > now ? `in ${humanDuration(at - now)}` : ago(t.expiresAt, now);
}

const listTokens = defineCommand<Record<string, never>, { handle?: string; dataDir?: string; json?: boolean }>({
  name: 'ls',
  aliases: ['list'],
  description: 'List API tokens (never the tokens themselves): who, what for, when they expire, whether they still work',
  options: [
    { flags: '--handle <name>', description: 'only the tokens of this actor' },
    DATA_DIR_OPTION,
    { flags: '--json', description: 'print the tokens as a JSON array' },
  ],
  async run(ctx, _args, opts) {
    const tokens = await (await admin()).listTokens({ env: ctx.env, dataDir: opts.dataDir, handle: opts.handle });
    if (opts.json) return ctx.json(tokens);
    const now = Date.now();
    const rows = tokens.map((t) => [t.id, ctx.out.cyan(`@${t.handle}`), t.label, ago(t.createdAt, now), expiry(t, now), t.status === 'active' ? ctx.out.green(t.status) : ctx.out.dim(t.status)]);
    ctx.stdout.write(renderTable(['ID', 'ACTOR', 'LABEL', 'CREATED', 'EXPIRES', 'STATUS'], rows, ctx.out));
  },
});

const revokeTokens = defineCommand<{ ids: string[] }, { dataDir?: string }>({
  name: 'revoke',
  aliases: ['rm'],
  description: 'Revoke API tokens by id (from `token ls`): they stop working at once',
  args: [{ name: 'ids', description: 'token ids (tok_…)', variadic: true }],
  options: [DATA_DIR_OPTION],
  async run(ctx, args, opts) {
    const { revokeTokenById } = await admin();
    const missing: string[] = [];
    for (const id of args.ids) {
      if (await revokeTokenById({ env: ctx.env, dataDir: opts.dataDir, id })) ctx.print(`Revoked ${id}`);
      else missing.push(id);
    }
    if (missing.length > 0) {
      throw new CLIError(`no active token ${missing.join(', ')}`, ExitCode.NOT_FOUND, 'see the ids with `pocketenv token ls`');
    }
  },
});

export const token = defineCommand({
  name: 'token',
  description: 'Manage API tokens (on this machine’s server)',
  subcommands: [createToken, listTokens, revokeTokens],
});
