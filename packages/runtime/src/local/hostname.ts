/**
 * Renaming a sandbox after it was created (the server's warm pool boots sandboxes with a
 * neutral hostname and gives each its caller's name when it hands it out).
 *
 * The kernel hostname is set from the host: `nsenter --uts` joins ONLY the sandbox's own
 * UTS namespace and runs the host's `hostname` there (inside, sethostname needs
 * CAP_SYS_ADMIN, which sandboxes do not get). /etc/hostname and /etc/hosts are rewritten in
 * the sandbox's layer, and spec.json remembers the name for every later boot and exec.
 */
import { runtimeFor, type LocalContext } from './context';
import { mustRun } from './command';
import { findBinary, type ContainerState } from './oci-runtime';
import { assertValidHostname, containerIdOf } from './paths';
import { readSpec, writeJsonAtomic } from './store';
import { SandboxMissingError } from '../provider/errors';

export async function renameSandbox(
  ctx: LocalContext,
  id: string,
  hostname: string,
  writeFiles: (files: { path: string; content: Buffer }[]) => Promise<void>,
  known?: ContainerState,
): Promise<void> {
  assertValidHostname(hostname);
  const p = ctx.paths.sandbox(id);
  const spec = await readSpec(p);
  if (!spec) throw new SandboxMissingError(id);
  const saved = spec.hostname === hostname ? Promise.resolve() : writeJsonAtomic(p.spec, { ...spec, hostname });
  const state = known ?? (await runtimeFor(ctx, id, spec).state(containerIdOf(id)));
  if (state?.status !== 'running' || !state.pid) return saved; // the next boot uses spec.json
  const nsenter = findBinary('nsenter') ?? 'nsenter';
  // Independent steps, run together: this is on the path of a pooled create.
  await Promise.all([
    saved,
    mustRun(nsenter, [`--uts=/proc/${state.pid}/ns/uts`, '--', findBinary('hostname') ?? 'hostname', hostname]),
    writeFiles([
      { path: '/etc/hostname', content: Buffer.from(`${hostname}\n`) },
      { path: '/etc/hosts', content: Buffer.from(`127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t${hostname}\n`) },
    ]),
  ]);
}
