import { AbortedError, ArchiveError, archiveLimitsFromEnv, copy } from '@pocketenv/sdk';
import { defineCommand } from '../command';
import type { CliContext } from '../context';
import { CLIError, ExitCode } from '../errors';
import { ProgressBar } from '../output/progress';
import { findRunningSandbox } from '../resolve';

/** `<sandbox>:/path`; a sandbox is a name or id (letters, digits, `-`, `_`), the path absolute. */
const REMOTE = /^([A-Za-z0-9][A-Za-z0-9_-]*):(\/.*)$/;

export type Location = { kind: 'local'; path: string } | { kind: 'sandbox'; sandbox: string; path: string };

/** Reads a cp argument: `box:/workspace/x` is in a sandbox, anything else is a local path. */
export function parseLocation(spec: string): Location {
  const match = REMOTE.exec(spec);
  return match ? { kind: 'sandbox', sandbox: match[1]!, path: match[2]! } : { kind: 'local', path: spec };
}

const PHASES = { pack: 'Packing', upload: 'Uploading', remote: 'Working in the sandbox', download: 'Downloading', unpack: 'Unpacking' } as const;

export const cp = defineCommand<{ source: string; destination: string }>({
  name: 'cp',
  aliases: ['copy'],
  description: 'Copy files between this machine and a sandbox, or between two sandboxes',
  args: [
    { name: 'source', description: 'a local path, or <sandbox>:/path' },
    { name: 'destination', description: 'a local directory, or <sandbox>:/directory' },
  ],
  connects: true,
  helpText: [
    'Examples:',
    '  pocketenv cp ./app box:/workspace/app        upload a directory (its contents land in /workspace/app)',
    '  pocketenv cp box:/workspace/app/dist ./dist  download',
    '  pocketenv cp box:/data other:/data           sandbox to sandbox (nothing passes through here)',
    '',
    'The destination is a directory: a file is copied into it under its own name.',
    'Uploads leave out what .pocketenvignore, .gitignore, .npmignore and .dockerignore exclude',
    '(in any directory; .pocketenvignore has the last word). Sandboxes must be running.',
    'Archives from the server are checked before anything is written: entries that would land',
    'outside the destination, device files, and archives over the limits are refused.',
    'Limits: POCKETENV_COPY_MAX_BYTES (compressed, default 512MiB),',
    'POCKETENV_COPY_MAX_UNPACKED_BYTES (default 4GiB), POCKETENV_COPY_MAX_ENTRIES (default 500000).',
    'A local path that looks like <name>:/… can be written ./<name>:/….',
  ].join('\n'),
  async run(ctx, args, opts) {
    const source = parseLocation(args.source);
    const dest = parseLocation(args.destination);
    if (args.source === args.destination) throw new CLIError('source and destination are the same', ExitCode.USAGE);
    if (source.kind === 'local' && dest.kind === 'local') {
      throw new CLIError('both source and destination are local paths', ExitCode.USAGE, 'write one of them as <sandbox>:/path');
    }
    const limits = readLimits(ctx);
    const client = ctx.client(opts);
    const bar = new ProgressBar(ctx.stderr);
    const abort = new AbortController();
    const release = onInterrupt(ctx, abort);
    const options: copy.CopyOptions = {
      signal: abort.signal,
      limits,
      onProgress: (p) => bar.update(PHASES[p.phase], p.done, p.total, p.unit),
    };
    try {
      if (source.kind === 'local' && dest.kind === 'sandbox') {
        await copy.upload(await findRunningSandbox(client, dest.sandbox), source.path, dest.path, options);
      } else if (source.kind === 'sandbox' && dest.kind === 'local') {
        await copy.download(await findRunningSandbox(client, source.sandbox), source.path, dest.path, options);
      } else if (source.kind === 'sandbox' && dest.kind === 'sandbox') {
        const [from, to] = await Promise.all([findRunningSandbox(client, source.sandbox), findRunningSandbox(client, dest.sandbox)]);
        await copy.to(from, to, source.path, dest.path, options);
      }
    } catch (error) {
      if (error instanceof AbortedError || abort.signal.aborted) throw new CLIError('interrupted', 130);
      if (error instanceof ArchiveError) throw new CLIError(`refused: ${error.message}`, ExitCode.GENERIC);
      if ((error as NodeJS.ErrnoException)?.code === 'ENOENT' && source.kind === 'local') {
        throw new CLIError(`no such file or directory: ${source.path}`, ExitCode.NOT_FOUND);
      }
      throw error;
    } finally {
      bar.stop();
      release();
    }
    ctx.print(`Copied ${args.source} to ${args.destination}`);
  },
});


function readLimits(ctx: CliContext) {
  try {
    return archiveLimitsFromEnv(ctx.env);
  } catch (error) {
    throw new CLIError((error as Error).message, ExitCode.USAGE);
  }
}

/** Ctrl+C aborts the transfer (temporary files are removed); a second one exits at once. */
function onInterrupt(ctx: CliContext, abort: AbortController): () => void {
  const first = () => {
    abort.abort();
    process.once('SIGINT', second);
  };
  const second = () => ctx.hardExit(130);
  process.once('SIGINT', first);
  return () => {
    process.off('SIGINT', first);
    process.off('SIGINT', second);
  };
}
