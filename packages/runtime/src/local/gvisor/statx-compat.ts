/**
 * The statx compatibility library of gVisor sandboxes (see statx-compat.c for why): built
 * once per host boot from its C source with the host's gcc, into /run/pocketenv/gvisor, and
 * bind-mounted read-only into each gVisor sandbox with an /etc/ld.so.preload naming it.
 * Built by content hash, so a changed source is rebuilt and running sandboxes keep theirs.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { HostNotReadyError } from '../../provider/errors';
import { runCommand } from '../command';
import { findBinary } from '../oci-runtime';
import type { OciMount } from '../oci-config';

const HOST_DIR = '/run/pocketenv/gvisor';
/** Inside the sandbox: under /dev (a tmpfs), like the init and the exec agent, so no file lands in the sandbox's layer. */
const LIBRARY_IN_SANDBOX = '/dev/pocketenv-statx-compat.so';
const PRELOAD_FILE = '/etc/ld.so.preload';

let built: Promise<{ library: string; preload: string }> | undefined;

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

async function build(): Promise<{ library: string; preload: string }> {
  const source = await readFile(fileURLToPath(new URL('./statx-compat.c', import.meta.url)));
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  await mkdir(HOST_DIR, { recursive: true, mode: 0o755 });
  const library = join(HOST_DIR, `statx-compat-${hash}.so`);
  const preload = join(HOST_DIR, 'ld.so.preload');
  if (!(await exists(library))) {
    const gcc = findBinary('gcc') ?? findBinary('cc');
    if (!gcc) throw new HostNotReadyError('gVisor sandboxes need gcc on the host to build their statx compatibility library: apt-get install -y gcc libc6-dev');
    const tmpSource = join(HOST_DIR, `statx-compat-${randomBytes(4).toString('hex')}.c`);
    const tmpLibrary = `${library}.${randomBytes(4).toString('hex')}`;
    await writeFile(tmpSource, source);
    try {
      const r = await runCommand(gcc, ['-shared', '-fPIC', '-O2', '-o', tmpLibrary, tmpSource]);
      if (r.code !== 0) throw new HostNotReadyError(`building the gVisor statx compatibility library failed: ${r.stderr.trim().slice(-500)}`);
      await rename(tmpLibrary, library);
    } finally {
      await rm(tmpSource, { force: true });
      await rm(tmpLibrary, { force: true });
    }
  }
  const tmpPreload = `${preload}.${randomBytes(4).toString('hex')}`;
  await writeFile(tmpPreload, `${LIBRARY_IN_SANDBOX}\n`, { mode: 0o644 });
  await rename(tmpPreload, preload);
  return { library, preload };
}

/** The two read-only bind mounts that make every dynamically linked program load the library. */
export async function statxCompatMounts(): Promise<OciMount[]> {
  built ??= build().catch((err: unknown) => {
    built = undefined;
    throw err;
  });
  const { library, preload } = await built;
  return [
    { destination: LIBRARY_IN_SANDBOX, type: 'bind', source: library, options: ['bind', 'ro', 'nosuid', 'nodev'] },
    { destination: PRELOAD_FILE, type: 'bind', source: preload, options: ['bind', 'ro', 'nosuid', 'nodev', 'noexec'] },
  ];
}
