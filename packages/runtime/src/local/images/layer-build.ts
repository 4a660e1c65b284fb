/**
 * Builds a derived image (a template with `from`) as an overlay layer over its
 * parent chain: the parent layers are mounted read-only as `lowerdir`, the new
 * layer directory is the `upperdir`, and the template's steps run inside with
 * systemd-nspawn in the sandbox user namespace (container root = host UID_BASE),
 * so every file the steps create is already owned by the shifted range.
 *
 * After the steps the overlay is unmounted and the upper dir IS the layer: it
 * holds only what the template added or changed (plus overlay whiteouts for what
 * it deleted), and is later stacked as `lowerdir=layer:parent:…` by the provider.
 */
import { execFile } from 'node:child_process';
import { chown, chmod, mkdir } from 'node:fs/promises';
import { removeTree } from './fs-util';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Stage } from './apt-progress';
import type { Template } from './template';
import { runCommand } from './run';
import { HOST_CA_BUNDLE } from '../oci-config';
import { nspawnBaseArgs, UID_BASE } from './shift';

const exec = promisify(execFile);

/** Marker lines the build script prints so progress knows which step runs. */
const STAGE_MARK = '==> pocketenv stage';

/** The shell script a template's steps become. Entries are validated in template.ts. */
export function layerScript(template: Template): string {
  const lines = ['export DEBIAN_FRONTEND=noninteractive'];
  if (template.packages?.length) {
    lines.push(
      `echo '${STAGE_MARK} [packages]'`,
      'apt-get update',
      `apt-get install -y --no-install-recommends ${template.packages.join(' ')}`,
    );
  }
  (template.run ?? []).forEach((step, i) => {
    lines.push(`echo '${STAGE_MARK} [run-${i + 1}]'`, `(${step})`);
  });
  if (template.npm?.length) {
    lines.push(
      `echo '${STAGE_MARK} [npm]'`,
      `npm install --global --no-fund --no-audit --loglevel=http ${template.npm.join(' ')}`,
    );
  }
  // Leave no caches behind; keep apt's lock and partial dirs, which apt expects to exist.
  lines.push(
    `echo '${STAGE_MARK} [cleanup]'`,
    'if command -v apt-get >/dev/null; then apt-get clean; fi',
    'if [ -d /var/lib/apt/lists ]; then find /var/lib/apt/lists -mindepth 1 -maxdepth 1 -type f ! -name lock -delete; fi',
    'rm -rf /var/lib/apt/lists/auxfiles /root/.npm /root/.cache /tmp/* /var/tmp/*',
  );
  return lines.join('\n');
}

/** Progress stages matching layerScript's markers, sharing [0, 0.95] of the bar by weight. */
export function layerStages(template: Template): Stage[] {
  const steps: Array<{ marker: string; phase: string; label: string; weight: number; counts?: Stage['counts'] }> = [];
  if (template.packages?.length) {
    steps.push({ marker: 'packages', phase: 'packages', label: `apt-get install ${template.packages.join(' ')}`, weight: 4, counts: 'all' });
  }
  (template.run ?? []).forEach((step, i) => steps.push({ marker: `run-${i + 1}`, phase: 'run', label: step, weight: 2 }));
  if (template.npm?.length) {
    steps.push({ marker: 'npm', phase: 'npm', label: `npm install -g ${template.npm.join(' ')}`, weight: 4, counts: 'all' });
  }
  steps.push({ marker: 'cleanup', phase: 'cleanup', label: 'removing caches', weight: 0.3 });
  const total = steps.reduce((sum, s) => sum + s.weight, 0);
  let at = 0;
  return steps.map((s) => {
    const from = at;
    at += (s.weight / total) * 0.95;
    return { marker: `${STAGE_MARK} [${s.marker}]`, phase: s.phase, label: s.label, from, to: at, counts: s.counts };
  });
}

export interface LayerBuildDirs {
  /** Becomes the layer (the overlay upper dir). */
  layer: string;
  /** Scratch dir on the same filesystem (overlay workdir and mount point). */
  scratch: string;
}

export async function buildLayer(
  template: Template,
  parentLowerDirs: string[],
  dirs: LayerBuildDirs,
  onLine: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  try {
    await runInOverlay({ lowerDirs: parentLowerDirs, upper: dirs.layer, scratch: dirs.scratch, script: layerScript(template), onLine, signal });
  } finally {
    await removeTree(dirs.scratch);
  }
}

export interface OverlayRun {
  /** Read-only layers, top first. */
  lowerDirs: string[];
  /** Receives everything the script writes (made, and owned by the sandbox's root, here). */
  upper: string;
  /** Overlay workdir and mount point go here (same filesystem as `upper`); the caller removes it. */
  scratch: string;
  /** Run with `/bin/sh -euc` as the (user-namespaced) root of the merged tree. */
  script: string;
  /** More systemd-nspawn arguments (e.g. `--bind=` for an output dir). */
  extraArgs?: string[];
  onLine: (line: string) => void;
  /** Stops the build (see runCommand); the overlay is still unmounted. */
  signal?: AbortSignal;
}

/**
 * Runs a build script in a throwaway container whose root is an overlay of `lowerDirs` under
 * `upper`, with the host's network, resolver and CA bundle, then unmounts the overlay: what
 * the script wrote stays in `upper` (and in any bind-mounted dir).
 */
export async function runInOverlay(run: OverlayRun): Promise<void> {
  const work = join(run.scratch, 'work');
  const merged = join(run.scratch, 'merged');
  for (const dir of [run.upper, work, merged]) await mkdir(dir, { recursive: true });
  // The merged root takes the upper dir's owner and mode: make it the sandbox's root dir.
  await chown(run.upper, UID_BASE, UID_BASE);
  await chmod(run.upper, 0o755);
  await exec('mount', [
    '-t', 'overlay', 'overlay',
    '-o', `lowerdir=${run.lowerDirs.join(':')},upperdir=${run.upper},workdir=${work}`,
    merged,
  ]);
  try {
    await runCommand(
      'systemd-nspawn',
      [
        ...nspawnBaseArgs(merged),
        '--private-users-ownership=off',
        // Host network namespace: build steps reach the Debian mirror and npm directly.
        '--resolv-conf=bind-host',
        // TLS is intercepted on some hosts; the host bundle knows the proxy CA. A bind
        // mount over an existing file leaves nothing behind in the layer.
        `--bind-ro=${HOST_CA_BUNDLE}`,
        ...(run.extraArgs ?? []),
        '--setenv=HOME=/root',
        '--setenv=LANG=C.UTF-8',
        // Node ships its own CA list; npm must trust the host bundle mounted above.
        `--setenv=NODE_EXTRA_CA_CERTS=${HOST_CA_BUNDLE}`,
        '--setenv=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        '/bin/sh', '-euc', run.script,
      ],
      { onLine: run.onLine, signal: run.signal },
    );
  } finally {
    await exec('umount', [merged]).catch(() => exec('umount', ['-l', merged]));
  }
}
