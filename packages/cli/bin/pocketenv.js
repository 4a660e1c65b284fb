#!/usr/bin/env -S node --max-semi-space-size=1
// The `pocketenv` command: runs the compiled CLI in ../dist (`./pocketenv`, scripts/test and
// vitest build it when the sources changed; `bash scripts/build.sh` does it by hand).
// --max-semi-space-size=1 (MiB): V8's young generation otherwise grows to 32 MiB and stays
// resident, a third of an idle `pocketenv serve`'s memory; the CLI's short runs never notice.
import { existsSync, readFileSync } from 'node:fs';

const args = process.argv.slice(2);
// The probe scripts and agents run most, answered before anything else is loaded (the same
// output as the full CLI's --version).
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  const cli = new URL('../dist/index.js', import.meta.url);
  if (!existsSync(cli)) {
    process.stderr.write('pocketenv: the CLI is not built yet; run ./pocketenv from the repository (it builds it), or bash scripts/build.sh\n');
    process.exit(1);
  }
  const { main } = await import(cli.href);
  process.exitCode = await main(args);
}
