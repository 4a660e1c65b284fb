/**
 * Helpers for the local provider's tests: temp state dirs, unique ids, and a
 * capability probe that says loudly why the tests cannot run (only when a
 * capability is truly missing; CI runs them as root).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CreateSpec, Resources } from '../../src/provider/types';
import { LocalProvider } from '../../src/local/index';
import { forceCleanup } from './host-traces';

/** Why local sandboxes cannot run on this machine, or undefined when they can. */
export function localUnavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root';
  try {
    execFileSync('unshare', ['--user', '--map-root-user', 'true'], { stdio: 'ignore' });
  } catch {
    return 'user namespaces are not available';
  }
  return undefined;
}

export function warnSkipped(file: string, reason: string | undefined): void {
  if (reason) console.warn(`\n*** ${file}: SKIPPED — ${reason}; the local provider needs root, userns, overlayfs and cgroups ***\n`);
}

/** Ids are host-wide (cgroups, veths): random per test run. */
export function uniqueId(prefix: string): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

export const SMALL: Resources = { vcpus: 1, memoryGiB: 0.5, diskGiB: 2, pids: 256 };

export function createSpec(id: string, extra: Partial<CreateSpec> = {}): CreateSpec {
  return { id, hostname: `box-${id}`, base: 'debian', resources: SMALL, ...extra };
}

/** A fresh state dir path (created by the provider on first use, so a skipped test leaves nothing). */
export function tempStateDir(prefix = 'pe-local-'): string {
  return join(tmpdir(), `${prefix}${randomBytes(6).toString('hex')}`);
}

/** A provider on a fresh state dir; `cleanup` deletes every sandbox it has and the dir. */
export function tempProvider(opts: { ociRuntime?: 'crun' | 'runc' } = {}) {
  const stateDir = tempStateDir();
  const provider = new LocalProvider({ stateDir, ...opts });
  return {
    stateDir,
    provider,
    async cleanup() {
      for (const s of await provider.list().catch(() => [])) await provider.delete(s.id).catch(() => undefined);
      await forceCleanup(stateDir);
    },
  };
}
