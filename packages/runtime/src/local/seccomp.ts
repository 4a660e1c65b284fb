/**
 * The sandbox's seccomp filter: the Docker/moby-style default allowlist that
 * Debian ships (package `golang-github-containers-common`, the profile podman uses),
 * converted to the OCI `linux.seccomp` form for our architecture and capability set.
 *
 * We read the distribution's file instead of embedding ~400 syscall names so the
 * profile follows Debian's security updates. The moby format adds what OCI lacks:
 * per-rule `includes`/`excludes` on architectures and capabilities, and an
 * `archMap`; those are resolved here, once.
 */
import { existsSync, readFileSync } from 'node:fs';
import { HostNotReadyError } from '../provider/errors';

export const SECCOMP_PROFILE_PATH = '/usr/share/containers/seccomp.json';
export const SECCOMP_PACKAGE = 'golang-github-containers-common';

interface MobyArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

interface MobyFilter {
  arches?: string[];
  caps?: string[];
  minKernel?: string;
}

interface MobyRule {
  names?: string[];
  name?: string;
  action: string;
  args?: MobyArg[] | null;
  includes?: MobyFilter;
  excludes?: MobyFilter;
  errnoRet?: number;
}

interface MobyProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  archMap?: { architecture: string; subArchitectures?: string[] }[];
  syscalls: MobyRule[];
}

export interface OciSeccompRule {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: { index: number; value: number; valueTwo: number; op: string }[];
}

export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures: string[];
  syscalls: OciSeccompRule[];
}

/**
 * Syscalls refused even when the distribution's profile allows them. The kernel keyring is
 * not isolated per sandbox (every sandbox's root is the same host uid, whose user keyring
 * and key quota are shared), so, as Docker's default profile does, keyctl is refused along
 * with add_key/request_key. Found by the escape suite (packages/server/test/safety).
 */
export const ALWAYS_DENIED_SYSCALLS: ReadonlySet<string> = new Set(['keyctl', 'add_key', 'request_key']);

/**
 * Socket families refused even where the profile allows `socket` outright (the isolation
 * side-by-side test found standard sandboxes could open both; gVisor has neither):
 * AF_VSOCK talks to the hypervisor of a VM host, past every network namespace and nft rule;
 * AF_XDP is a raw path into the host kernel's driver and XDP code that no sandbox needs.
 */
export const DENIED_SOCKET_FAMILIES: Readonly<Record<string, number>> = { AF_VSOCK: 40, AF_XDP: 44 };

/**
 * Rules allowing socket() for every family but `denied`. A rule's comparisons are ANDed and
 * may not test one argument twice, so the allowed ranges become one rule each: below the
 * first denied family, each family between denied ones, above the last.
 */
function socketAllowRules(denied: number[]): OciSeccompRule[] {
  const sorted = [...new Set(denied)].sort((a, b) => a - b);
  const rule = (value: number, op: string): OciSeccompRule => ({ names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value, valueTwo: 0, op }] });
  const rules = [rule(sorted[0]!, 'SCMP_CMP_LT')];
  for (let family = sorted[0]! + 1; family < sorted[sorted.length - 1]!; family++) if (!sorted.includes(family)) rules.push(rule(family, 'SCMP_CMP_EQ'));
  rules.push(rule(sorted[sorted.length - 1]!, 'SCMP_CMP_GT'));
  return rules;
}

/** Node's `process.arch` → (Go arch name used in `includes.arches`, libseccomp arch). */
const ARCHES: Record<string, { go: string[]; scmp: string }> = {
  x64: { go: ['amd64'], scmp: 'SCMP_ARCH_X86_64' },
  arm64: { go: ['arm64'], scmp: 'SCMP_ARCH_AARCH64' },
  s390x: { go: ['s390x'], scmp: 'SCMP_ARCH_S390X' },
  ppc64: { go: ['ppc64le'], scmp: 'SCMP_ARCH_PPC64LE' },
};

function applies(rule: MobyRule, goArches: string[], caps: ReadonlySet<string>): boolean {
  const inc = rule.includes ?? {};
  const exc = rule.excludes ?? {};
  if (inc.arches?.length && !inc.arches.some((a) => goArches.includes(a))) return false;
  if (exc.arches?.length && exc.arches.some((a) => goArches.includes(a))) return false;
  if (inc.caps?.length && !inc.caps.every((c) => caps.has(c))) return false;
  if (exc.caps?.length && exc.caps.some((c) => caps.has(c))) return false;
  return true;
}

/** Converts a moby-format profile for the given capability set (e.g. `CAP_CHOWN`). */
export function convertMobyProfile(profile: MobyProfile, caps: ReadonlySet<string>, arch = process.arch): OciSeccomp {
  const a = ARCHES[arch];
  if (!a) throw new HostNotReadyError(`no seccomp architecture mapping for ${arch}`);
  const mapped = profile.archMap?.find((m) => m.architecture === a.scmp);
  const architectures = [a.scmp, ...(mapped?.subArchitectures ?? [])];
  const syscalls: OciSeccompRule[] = [];
  for (const rule of profile.syscalls) {
    if (!applies(rule, a.go, caps)) continue;
    const named = rule.names ?? (rule.name ? [rule.name] : []);
    // Only allow rules are filtered: the profile's default action then refuses these.
    const names = rule.action === 'SCMP_ACT_ALLOW' ? named.filter((n) => !ALWAYS_DENIED_SYSCALLS.has(n)) : named;
    if (names.length === 0) continue;
    const out: OciSeccompRule = { names, action: rule.action };
    if (rule.errnoRet !== undefined) out.errnoRet = rule.errnoRet;
    if (rule.args?.length) {
      out.args = rule.args.map((x) => ({ index: x.index, value: x.value, valueTwo: x.valueTwo ?? 0, op: x.op }));
    } else if (rule.action === 'SCMP_ACT_ALLOW' && names.includes('socket')) {
      // An unconditional socket(): allowed for every family but the denied ones.
      out.names = names.filter((n) => n !== 'socket');
      syscalls.push(...socketAllowRules(Object.values(DENIED_SOCKET_FAMILIES)));
      if (out.names.length === 0) continue;
    }
    syscalls.push(out);
  }
  return {
    defaultAction: profile.defaultAction,
    ...(profile.defaultErrnoRet !== undefined ? { defaultErrnoRet: profile.defaultErrnoRet } : {}),
    architectures,
    syscalls,
  };
}

const cache = new Map<string, OciSeccomp>();

/** The default profile for `caps`; throws HostNotReadyError when Debian's profile is not installed. */
export function defaultSeccompProfile(caps: readonly string[]): OciSeccomp {
  const key = [...caps].sort().join(',');
  const hit = cache.get(key);
  if (hit) return hit;
  if (!existsSync(SECCOMP_PROFILE_PATH)) {
    throw new HostNotReadyError(
      `seccomp profile ${SECCOMP_PROFILE_PATH} is missing; install the Debian package ${SECCOMP_PACKAGE} (pocketenv setup does)`,
    );
  }
  const profile = JSON.parse(readFileSync(SECCOMP_PROFILE_PATH, 'utf8')) as MobyProfile;
  const converted = convertMobyProfile(profile, new Set(caps));
  cache.set(key, converted);
  return converted;
}
