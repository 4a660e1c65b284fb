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

/** `sb` when it is running, else a CLIError that says how to start it. */
export function requireRunning(sb: ConnectedSandbox): ConnectedSandbox {
  if (sb.data.status !== 'RUNNING') {
    throw new CLIError(`sandbox ${sb.name} is not running (${sb.data.status})`, ExitCode.GENERIC, `start it with \`pocketenv start ${sb.name}\``);
  }
  return sb;
}

/** The caller's running sandbox with this id or name (exit 4 when there is none, 1 when stopped). */
export async function findRunningSandbox(client: Client, idOrName: string): Promise<ConnectedSandbox> {
  return requireRunning(await findSandbox(client, idOrName));
}
