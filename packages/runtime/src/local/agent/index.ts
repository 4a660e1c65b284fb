/**
 * The exec agent's host side: its script and socket dir, the mounts that bring them into
 * a sandbox, and launching it right after boot through the runtime's own exec (so the
 * agent — and every command it forks — has the sandbox's full confinement).
 *
 * Measured on the 2-core dev box (exec `echo ready` from Node, p50): `crun exec` 9.8 ms,
 * `nsenter --all` ~4–6 ms (but skips cgroup and seccomp: unsafe), this agent ~1.5 ms.
 * `crun exec` stays the fallback whenever the agent does not answer.
 */
import { chown, lstat, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SandboxRuntime } from '../oci-runtime';
import { processSpec, SANDBOX_UID_BASE, type OciMount } from '../oci-config';
import { AGENT_DIR_BASE, containerIdOf, type SandboxPaths } from '../paths';

/** Inside the sandbox: the socket dir (a bind mount of SandboxPaths.agentDir) and the script. */
const AGENT_DIR_IN_SANDBOX = '/dev/pocketenv';
const AGENT_SCRIPT_IN_SANDBOX = '/dev/pocketenv-agent.pl';
/**
 * On the host, outside any state dir so the sandbox's user namespace can traverse to it. Named
 * by content: servers of different versions on one host each mount their own script.
 */
const HOST_SCRIPT_DIR = '/run/pocketenv';
const PERL = '/usr/bin/perl';
/** How long boot waits for the agent's socket; after that, exec falls back until it shows up. */
// Generous: under load perl can take seconds to start, and the fallback exec is slower anyway.
const AGENT_READY_TIMEOUT_MS = 5000;

let scriptReady: Promise<string> | undefined;

/** Installs the agent script where sandboxes bind-mount it from (root-owned, read-only to them); returns its path. */
function ensureScript(): Promise<string> {
  scriptReady ??= (async () => {
    const source = await readFile(fileURLToPath(new URL('./exec-agent.pl', import.meta.url)));
    const hostScript = join(HOST_SCRIPT_DIR, `exec-agent-${createHash('sha256').update(source).digest('hex').slice(0, 16)}.pl`);
    const current = await readFile(hostScript).catch(() => undefined);
    if (current?.equals(source)) return hostScript;
    await mkdir(AGENT_DIR_BASE, { recursive: true, mode: 0o711 });
    const tmp = `${hostScript}.${randomBytes(4).toString('hex')}`;
    await writeFile(tmp, source, { mode: 0o644 });
    await rename(tmp, hostScript);
    return hostScript;
  })().catch((err: unknown) => {
    scriptReady = undefined;
    throw err;
  });
  return scriptReady;
}

/** The socket dir (owned by the sandbox's root, so the agent can bind in it) and the script. */
export async function prepareAgent(p: SandboxPaths): Promise<OciMount[]> {
  const hostScript = await ensureScript();
  await rm(p.agentDir, { recursive: true, force: true });
  await mkdir(p.agentDir, { recursive: true, mode: 0o700 });
  await chown(p.agentDir, SANDBOX_UID_BASE, SANDBOX_UID_BASE);
  return [
    { destination: AGENT_DIR_IN_SANDBOX, type: 'bind', source: p.agentDir, options: ['bind', 'rw', 'nosuid', 'nodev', 'noexec'] },
    { destination: AGENT_SCRIPT_IN_SANDBOX, type: 'bind', source: hostScript, options: ['bind', 'ro', 'nosuid', 'nodev'] },
  ];
}

/**
 * Starts the agent in a running sandbox (returns once the runtime started it; the socket
 * appears a few ms later). `env` is the sandbox's base env; each command brings its own.
 */
export async function launchAgent(runtime: SandboxRuntime, p: SandboxPaths, env: string[]): Promise<void> {
  await mkdir(p.execDir, { recursive: true, mode: 0o700 });
  const processFile = join(p.execDir, `agent-${randomBytes(4).toString('hex')}.json`);
  const socket = `${AGENT_DIR_IN_SANDBOX}/agent.sock`;
  // gVisor lets the sandbox create a socket on the host dir but not rename or unlink one, so
  // there the agent binds at the final path, and a stale socket is removed from the host first.
  const inPlace = runtime.name === 'runsc';
  if (inPlace) await rm(p.agentSocket, { force: true });
  const args = [PERL, AGENT_SCRIPT_IN_SANDBOX, socket, ...(inPlace ? ['--in-place'] : [])];
  await writeFile(processFile, JSON.stringify(processSpec(args, env, '/')), { mode: 0o600 });
  try {
    await runtime.execDetached(containerIdOf(p.id), processFile);
  } finally {
    await rm(processFile, { force: true });
  }
  // The socket appears once perl has started (a few ms): wait for it, so the first exec
  // already goes through the agent rather than racing it with a runtime exec.
  const deadline = Date.now() + AGENT_READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await lstat(p.agentSocket).then(() => true, () => false)) return;
    await new Promise((r) => setTimeout(r, 2));
  }
}

export async function removeAgentDir(p: SandboxPaths): Promise<void> {
  await rm(p.agentDir, { recursive: true, force: true });
}
