/** Host setup for `setup` and `serve`, with a progress display on stderr. */
import { renderProgress, setupLocalHost } from '@pocketenv/runtime';
import { CLIError, ExitCode } from './errors';

export async function runHostSetup(opts: { imageDir?: string; toolsDir?: string; env: NodeJS.ProcessEnv }): Promise<void> {
  try {
    await setupLocalHost({ imageDir: opts.imageDir, toolsDir: opts.toolsDir, onProgress: renderProgress(process.stderr, opts.env) });
  } catch (error) {
    // The runtime's messages already say what is wrong and how to fix it.
    throw new CLIError(`host setup failed: ${error instanceof Error ? error.message : String(error)}`, ExitCode.GENERIC);
  }
}
