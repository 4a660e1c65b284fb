/**
 * Builds a root image (a template without `from`) with mmdebstrap, on the host.
 *
 * mmdebstrap runs with the host's network and CA store; nothing of the host's TLS
 * setup is baked into the image (the provider bind-mounts the host CA bundle at
 * run time). Docs, man pages and translations are left out to keep the base small.
 */
import type { Template } from './template';
import { runCommand } from './run';

const DEBIAN_MIRROR = 'http://deb.debian.org/debian';
const SECURITY_MIRROR = 'http://deb.debian.org/debian-security';

export const EXCLUDED_PATHS = [
  '/usr/share/man/*',
  '/usr/share/doc/*',
  '/usr/share/info/*',
  '/usr/share/locale/*',
  '/usr/share/lintian/*',
  '/usr/share/linda/*',
];
// Kept despite the exclusions: licences and the locale alias table some tools read.
const KEPT_PATHS = ['/usr/share/doc/*/copyright', '/usr/share/locale/locale.alias'];

export function defaultMirrors(suite: string): string[] {
  const lines = [`deb ${DEBIAN_MIRROR} ${suite} main`];
  // Testing/unstable have no -updates/-security suites under these names.
  if (!['sid', 'unstable', 'testing', 'trixie', 'forky'].includes(suite)) {
    lines.push(`deb ${DEBIAN_MIRROR} ${suite}-updates main`, `deb ${SECURITY_MIRROR} ${suite}-security main`);
  }
  return lines;
}

export function mmdebstrapArgs(template: Template, target: string): string[] {
  const suite = template.suite ?? 'bookworm';
  const args = [
    '--verbose',
    `--variant=${template.variant ?? 'apt'}`,
    '--aptopt=Acquire::Languages "none"',
    ...EXCLUDED_PATHS.map((p) => `--dpkgopt=path-exclude=${p}`),
    ...KEPT_PATHS.map((p) => `--dpkgopt=path-include=${p}`),
  ];
  if (template.packages?.length) args.push(`--include=${template.packages.join(',')}`);
  args.push(suite, target, ...(template.mirrors ?? defaultMirrors(suite)));
  return args;
}

export async function buildRoot(template: Template, target: string, onLine: (line: string) => void, signal?: AbortSignal): Promise<void> {
  // A clean environment: the host's locale or proxy tweaks must not leak into the image build.
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C.UTF-8', HOME: '/root', TMPDIR: process.env.TMPDIR ?? '/tmp' };
  await runCommand('mmdebstrap', mmdebstrapArgs(template, target), { onLine, env, signal });
}
