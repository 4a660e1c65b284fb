/**
 * Files of a running container, read and written by commands INSIDE it (through exec): the
 * path is resolved by the container's own kernel view, so no symlink the sandbox plants can
 * lead outside it, volumes included, and nothing on the engine's host is ever opened by path.
 * A write lands in a temp file next to the target and is renamed over it (`mv -T`), so an
 * existing symlink at the path is replaced, never followed, and readers never see half a file.
 */
import { ProviderError } from '../provider/errors';
import type { ExecResult, FileToWrite } from '../provider/types';
import { MAX_READ_BYTES } from '../shared/sandbox-input';


/** $1 = path, $2 = octal mode; content on stdin. */
const WRITE_SCRIPT = `
set -e
p="$1"; d=$(dirname -- "$p")
mkdir -p -- "$d"
t="$d/.pocketenv-write.$$"
trap 'rm -f -- "$t"' EXIT
cat > "$t"
chmod "$2" "$t"
mv -fT -- "$t" "$p"
trap - EXIT
`;

/** $1 = path. Only regular files: a FIFO or device would block or never end. */
const READ_SCRIPT = `
[ -e "$1" ] || { echo "no such file" >&2; exit 2; }
[ -f "$1" ] || { echo "not a regular file" >&2; exit 3; }
exec cat -- "$1"
`;

export type RunInSandbox = (args: string[], opts: { stdin?: Uint8Array; maxOutputBytes?: number }) => Promise<ExecResult>;

export async function writeFileInside(run: RunInSandbox, file: FileToWrite, id: string): Promise<void> {
  const mode = (file.mode ?? 0o644).toString(8);
  const r = await run(['/bin/sh', '-c', WRITE_SCRIPT, 'write', file.path, mode], { stdin: file.content, maxOutputBytes: 64 * 1024 });
  if (r.exitCode !== 0) {
    throw new ProviderError(`cannot write ${file.path} in sandbox ${id}: ${r.stderr.toString('utf8').trim() || `exit code ${r.exitCode}`}`);
  }
}

export async function readFileInside(run: RunInSandbox, path: string, id: string): Promise<Buffer> {
  const r = await run(['/bin/sh', '-c', READ_SCRIPT, 'read', path], { maxOutputBytes: MAX_READ_BYTES });
  if (r.exitCode !== 0) {
    throw new ProviderError(`cannot read ${path} in sandbox ${id}: ${r.stderr.toString('utf8').trim() || `exit code ${r.exitCode}`}`);
  }
  if (r.truncated) throw new ProviderError(`${path} in sandbox ${id} is larger than ${MAX_READ_BYTES / 1048576} MiB; read it with exec (e.g. tar) instead`);
  return r.stdout;
}
