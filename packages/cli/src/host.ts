/** Host setup for `setup` and `serve`, with a progress display on stderr. */
import { renderProgress, setupLocalHost, type SetupLocalHostOptions } from '@pocketenv/runtime';
import { CLIError, ExitCode } from './errors';

/** `setupLocalHost` (what to build: `bases`, `vscode`; default everything) with its progress on stderr. */
export async function runHostSetup(
  opts: Pick<SetupLocalHostOptions, 'imageDir' | 'toolsDir' | 'bases' | 'vscode'> & { env: NodeJS.ProcessEnv },
): Promise<void> {
  const { env, ...setup } = opts;
  try {
    await setupLocalHost({ ...setup, onProgress: renderProgress(process.stderr, env) });
  } catch (error) {
    // The runtime's messages already say what is wrong and how to fix it.
    throw new CLIError(`host setup failed: ${error instanceof Error ? error.message : String(error)}`, ExitCode.GENERIC);
  }
}
