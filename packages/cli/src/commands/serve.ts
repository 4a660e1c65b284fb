import { join } from 'node:path';
import { defineCommand } from '../command';
import type { CliContext } from '../context';
import { wholeNumber } from './parse';

interface ServeOptions {
  port?: number;
  host?: string;
  dataDir?: string;
  setup: boolean;
}

export const serve = defineCommand<Record<string, never>, ServeOptions>({
  name: 'serve',
  description: 'Run a Pocketenv server on this machine (Ctrl+C stops it)',
  options: [
    { flags: '--port <port>', description: 'port to listen on, 0 for any (default: $POCKETENV_PORT, else 8789)', parse: wholeNumber },
    { flags: '--host <host>', description: 'address to listen on (default: $POCKETENV_HOST, else 127.0.0.1)' },
    { flags: '--data-dir <dir>', description: 'where the database, keys and token live (default: $POCKETENV_DATA_DIR, else ~/.pocketenv)' },
    { flags: '--no-setup', description: 'skip the host setup check (`pocketenv setup`) before starting' },
  ],
  helpText: [
    'Before listening it installs missing host packages and builds the debian base (about a minute',
    'the first time). The other bases and code-server (for `pocketenv vscode`) then build in the',
    'background, one at a time ($POCKETENV_PREBUILD): `pocketenv bases` shows how far they are.',
  ].join('\n'),
  async run(ctx, _args, opts) {
    // Server and runtime are heavy: only `serve`, `setup` and `token create` load them.
    const { resolveConfig, startServer } = await import('@pocketenv/server');
    const serverOptions = { port: opts.port, host: opts.host, dataDir: opts.dataDir };
    // Every setting is checked before anything is written (host setup, data dir, database):
    // a bad value throws a ConfigError naming the variable, which exits 2.
    const config = resolveConfig(serverOptions, ctx.env);
    if (opts.setup) {
      const { runHostSetup } = await import('../host');
      // Only what the first sandbox needs; the server builds the rest once it listens.
      await runHostSetup({ imageDir: config.local.imageDir, toolsDir: config.local.toolsDir, bases: ['debian'], vscode: false, env: ctx.env });
    }
    const server = await startServer(serverOptions, ctx.env);
    ctx.print(`pocketenv: listening on ${server.url}`);
    ctx.note(`pocketenv: data in ${server.dataDir}; owner token in ${join(server.dataDir, 'token.json')}`);
    if (server.prebuilding.length) {
      ctx.note(`pocketenv: building in the background, one at a time: ${server.prebuilding.join(', ')} (pocketenv bases shows progress)`);
    }
    ctx.note(ctx.err.dim('pocketenv: Ctrl+C stops the server'));
    await untilSignal(ctx);
    ctx.note('pocketenv: shutting down…');
    await server.close();
  },
});

/** Resolves on the first SIGINT/SIGTERM; a second one ends the process at once. */
function untilSignal(ctx: CliContext): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.once('SIGINT', () => ctx.hardExit(130));
      process.once('SIGTERM', () => ctx.hardExit(143));
      ctx.note(`pocketenv: ${signal} received`);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
