/**
 * Finding out whether this host can run gVisor sandboxes, and on which platform.
 *
 * The platform is how gVisor's kernel (the Sentry) intercepts the application's syscalls:
 * `kvm` (fastest; needs /dev/kvm), `systrap` (seccomp traps; only in runsc releases from
 * 2023 on) or `ptrace` (works everywhere, slowest). `auto` takes the best one the installed
 * runsc lists and the host supports. The probe then runs a real one-shot sandbox, so
 * "available" means a sandbox has actually started here, not just that a binary exists.
 */
import { randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { runCommand } from '../command';
import { findBinary } from '../oci-runtime';

export type GvisorPlatform = 'ptrace' | 'kvm' | 'systrap';
export const GVISOR_PLATFORMS: readonly GvisorPlatform[] = ['ptrace', 'kvm', 'systrap'];
export type GvisorPlatformChoice = GvisorPlatform | 'auto';

export interface GvisorProbe {
  available: boolean;
  /** runsc's path and version and the platform in use, or why gVisor cannot run here. */
  detail: string;
  binary?: string;
  platform?: GvisorPlatform;
  version?: string;
}

function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Platforms this runsc knows (`runsc help platforms` prints one per line). */
async function listedPlatforms(binary: string): Promise<GvisorPlatform[]> {
  const r = await runCommand(binary, ['help', 'platforms']);
  const words = new Set(`${r.stdout}\n${r.stderr}`.split(/\s+/));
  return GVISOR_PLATFORMS.filter((p) => words.has(p));
}

/** The platforms to try, best first; with a fixed choice, just that one (or why it cannot be). */
export async function candidatePlatforms(binary: string, choice: GvisorPlatformChoice): Promise<{ candidates: GvisorPlatform[]; reason?: string }> {
  const listed = await listedPlatforms(binary);
  if (choice !== 'auto') {
    if (!listed.includes(choice)) return { candidates: [], reason: `this runsc has no ${choice} platform (it has: ${listed.join(', ') || 'none'})` };
    if (choice === 'kvm' && !kvmUsable()) return { candidates: [], reason: 'the kvm platform needs a usable /dev/kvm, and this host has none' };
    return { candidates: [choice] };
  }
  const candidates = (['kvm', 'systrap', 'ptrace'] as const).filter((p) => listed.includes(p) && (p !== 'kvm' || kvmUsable()));
  return candidates.length ? { candidates } : { candidates, reason: `runsc lists no platform this host can use (it has: ${listed.join(', ') || 'none'})` };
}

/** How long the one-shot probe sandbox may take (ptrace: ~1 s on an idle 2-core host). */
const SMOKE_TIMEOUT_MS = 20_000;

/** Runs `runsc do /bin/true` once: the cheapest real sandbox (no bundle, no network). */
async function smokeTest(binary: string, platform: GvisorPlatform, rootDir: string): Promise<string | undefined> {
  const r = await runCommand(binary, ['--root', rootDir, `--platform=${platform}`, '--network=none', 'do', '/bin/true'], { timeoutMs: SMOKE_TIMEOUT_MS });
  if (r.code === 0) return undefined;
  // A probe killed at its timeout leaves its sandbox behind.
  const left = await runCommand(binary, ['--root', rootDir, 'list', '--format', 'json']);
  for (const c of (JSON.parse(left.stdout.trim() || 'null') as { id: string }[] | null) ?? []) {
    await runCommand(binary, ['--root', rootDir, 'delete', '--force', c.id]);
  }
  if (r.code === 128 + 9) return `no sandbox started within ${SMOKE_TIMEOUT_MS / 1000} s`;
  return (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ') || `exit code ${r.code}`;
}

/**
 * `auto` takes the first candidate whose probe sandbox starts (a /dev/kvm that exists but does
 * not work, as in nested VMs, is passed over, and `detail` says so).
 */
/**
 * A successful probe is kept for the host's uptime in /run (a failing KVM costs the 20 s
 * timeout): keyed by the runsc binary (path, size, mtime) and the platform choice.
 */
const PROBE_CACHE = '/run/pocketenv/gvisor/probe.json';

export async function probeGvisor(opts: { choice: GvisorPlatformChoice; smokeRoot: string }): Promise<GvisorProbe> {
  const binary = findBinary('runsc');
  const st = binary ? await stat(binary).catch(() => undefined) : undefined;
  const key = st ? `${binary}:${st.size}:${st.mtimeMs}:${opts.choice}` : undefined;
  const cached = key ? ((JSON.parse(await readFile(PROBE_CACHE, 'utf8').catch(() => '{}')) as Record<string, GvisorProbe>)[key] ?? undefined) : undefined;
  if (cached) return cached;
  const result = await probeUncached(binary, opts);
  // Only a success is kept: a failure may be a busy host, and the next probe should look again.
  if (key && result.available) {
    await mkdir(dirname(PROBE_CACHE), { recursive: true, mode: 0o755 });
    const tmp = `${PROBE_CACHE}.${randomBytes(4).toString('hex')}`;
    await writeFile(tmp, JSON.stringify({ [key]: result }));
    await rename(tmp, PROBE_CACHE);
  }
  return result;
}

async function probeUncached(binary: string | undefined, opts: { choice: GvisorPlatformChoice; smokeRoot: string }): Promise<GvisorProbe> {
  if (!binary) return { available: false, detail: 'runsc (gVisor) is not installed: apt-get install -y runsc' };
  const version = (await runCommand(binary, ['--version'])).stdout.split('\n')[0]?.replace(/^runsc version\s*/, '').trim() || 'unknown version';
  const { candidates, reason } = await candidatePlatforms(binary, opts.choice);
  if (candidates.length === 0) return { available: false, detail: `runsc ${version} at ${binary}: ${reason}`, binary, version };
  const failures: string[] = [];
  for (const platform of candidates) {
    const failure = await smokeTest(binary, platform, opts.smokeRoot);
    if (!failure) {
      const passedOver = failures.length ? ` (passed over: ${failures.join('; ')})` : '';
      return { available: true, detail: `runsc ${version} at ${binary}, platform ${platform}${passedOver}`, binary, platform, version };
    }
    failures.push(`${platform}: ${failure}`);
  }
  return { available: false, detail: `runsc ${version} cannot start a sandbox here: ${failures.join('; ')}`, binary, version };
}
