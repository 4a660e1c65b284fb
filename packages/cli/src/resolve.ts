import { type Client, type ConnectedSandbox, sandbox } from '@pocketenv/sdk';
import { CLIError, ExitCode } from './errors';

/** The caller's sandbox with this id or name, or a not-found CLIError (exit 4). */
export async function findSandbox(client: Client, idOrName: string): Promise<ConnectedSandbox> {
  const data = await sandbox.get(client, idOrName);
  if (data === null) {
    throw new CLIError(`no such sandbox: ${idOrName}`, ExitCode.NOT_FOUND, 'list yours with `pocketenv ls`');
  }
  return sandbox.connect(data, client);
}
