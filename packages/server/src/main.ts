/**
 * Runs the server as a process: `node packages/server/dist/main.js` (compiled by scripts/build.sh).
 * Configuration comes from the environment (see README). Prints exactly one line on stdout,
 * `pocketenv: listening on <url>`, once requests are accepted; logs go to stderr.
 * SIGTERM/SIGINT shut down gracefully; a second signal exits at once.
 */
import { startServer } from './index';

async function main(): Promise<void> {
  const server = await startServer();
  process.stdout.write(`pocketenv: listening on ${server.url}\n`);
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write(`pocketenv: ${signal} received, shutting down\n`);
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`pocketenv: shutdown failed: ${(err as Error).stack ?? String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((err: unknown) => {
  process.stderr.write(`pocketenv: could not start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
