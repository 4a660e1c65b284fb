/**
 * `start({repo})`: clone a git URL into the sandbox's workspace, from inside the
 * sandbox (git is in the base image; the clone runs with the sandbox's network,
 * limits and user, never as host root). Shared by the providers: each hands in its
 * own way to run a command in the sandbox and where the workspace is as that command
 * sees it.
 *
 * Target: /workspace when it is empty, else /workspace/<repo name>. Idempotent: a
 * second start finds the clone (by its origin URL) and leaves it alone.
 */
import { ProviderError } from '../provider/errors';
import type { ExecResult } from '../provider/types';

/** Positional args: $1 = url, $2 = the workspace directory. Prints the destination on success. */
const CLONE_SCRIPT = `
set -u
url="$1"
ws="$2"
mkdir -p "$ws"
if [ -d "$ws/.git" ] && [ "$(git -C "$ws" config --get remote.origin.url 2>/dev/null)" = "$url" ]; then echo "$ws"; exit 0; fi
name=$(basename -- "$url"); name=\${name%.git}
[ -n "$name" ] && [ "$name" != "." ] && [ "$name" != ".." ] || name=repo
if [ -z "$(ls -A "$ws")" ]; then dest="$ws"; else dest="$ws/$name"; fi
if [ -d "$dest/.git" ] && [ "$(git -C "$dest" config --get remote.origin.url 2>/dev/null)" = "$url" ]; then echo "$dest"; exit 0; fi
if [ -e "$dest" ] && [ "$dest" != "$ws" ]; then echo "$dest already exists and is not a clone of $url" >&2; exit 3; fi
git clone --quiet -- "$url" "$dest" >&2 || exit $?
echo "$dest"
`;

export const CLONE_TIMEOUT_MS = 10 * 60 * 1000;

export function assertRepoUrl(url: string): void {
  if (typeof url !== 'string' || url.length === 0 || url.length > 4096 || url.startsWith('-') || /[\0\n\r]/.test(url)) {
    throw new ProviderError(`invalid repo URL ${JSON.stringify(url)}`);
  }
}

/**
 * Clones `url`; `exec` runs a command inside the sandbox, which sees the workspace at
 * `workspace`. Throws a ProviderError saying why a clone failed.
 */
export async function cloneRepo(
  url: string,
  exec: (args: string[], env: Record<string, string>, timeoutMs: number) => Promise<ExecResult>,
  workspace = '/workspace',
): Promise<string> {
  assertRepoUrl(url);
  const result = await exec(['/bin/sh', '-c', CLONE_SCRIPT, 'clone', url, workspace], { GIT_TERMINAL_PROMPT: '0' }, CLONE_TIMEOUT_MS);
  if (result.timedOut) throw new ProviderError(`cloning ${url} timed out after ${CLONE_TIMEOUT_MS / 1000}s`);
  if (result.exitCode !== 0) {
    const why = result.stderr.toString('utf8').trim() || `exit code ${result.exitCode}`;
    throw new ProviderError(`cloning ${url} into /workspace failed: ${why}`);
  }
  return result.stdout.toString('utf8').trim();
}
