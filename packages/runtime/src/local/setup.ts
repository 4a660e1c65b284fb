/**
 * One-call host setup for the local provider (what `pocketenv setup` and CI run):
 * install missing Debian packages, check the host can isolate sandboxes, then
 * build the base images once (cached machine-wide in imageDir).
 *
 * Importable on its own: `import { setupLocalHost } from '@pocketenv/runtime/…/local/setup'`.
 */
import type { ProgressEvent } from '../provider/types';
import { HostNotReadyError, UnknownBaseError } from '../provider/errors';
import { assertHostReady, checkHost, describeProblems, type HostReport } from './host-check';
import { ensureHostPackages } from './host-packages';
import { BaseImages } from './images/index';
import { DEFAULT_IMAGE_DIR } from './images/default-dir';
import { ensureCodeServer } from './tools/code-server';

export interface SetupLocalHostOptions {
  /** Base image cache; default DEFAULT_IMAGE_DIR (the caller resolves POCKETENV_IMAGE_DIR). */
  imageDir?: string;
  /** Shared tools dir; default DEFAULT_TOOLS_DIR (the caller resolves POCKETENV_TOOLS_DIR). */
  toolsDir?: string;
  bases?: string[];
  /** Also build the shared code-server (VS Code) tool; default true (see tools/code-server.ts). */
  vscode?: boolean;
  onProgress?: (e: ProgressEvent) => void;
}

/**
 * Built by `pocketenv setup` (and so by CI before the tests, which create sandboxes from these).
 * Measured on the 2-core dev box from an empty cache: debian 37 s, node 3.6 s, openclaw 43 s,
 * claude 8.4 s. Other bases are built on first use.
 */
export const DEFAULT_BASES = ['debian', 'node', 'openclaw', 'claude'];

export async function setupLocalHost(opts: SetupLocalHostOptions = {}): Promise<HostReport> {
  const emit = opts.onProgress ?? (() => undefined);
  const imageDir = opts.imageDir ?? DEFAULT_IMAGE_DIR;
  const bases = opts.bases ?? DEFAULT_BASES;
  const images = new BaseImages({ imageDir });
  // Unknown bases fail before anything is installed or built.
  const known = (await images.list()).map((b) => b.name);
  for (const base of bases) if (!known.includes(base)) throw new UnknownBaseError(base, known);

  // Without root nothing below can work; say so with the whole picture at once.
  const first = await checkHost({ probeUserns: false });
  if (!first.checks.find((c) => c.name === 'root')!.ok) {
    throw new HostNotReadyError(`this host cannot run local sandboxes yet:\n${describeProblems(first)}`);
  }
  await ensureHostPackages({ onProgress: emit });
  const report = await assertHostReady();
  emit({ phase: 'host check', fraction: 1, message: report.checks.map((c) => c.detail).join('; ') });
  for (const base of bases) await images.ensure(base, emit);
  // Once per machine (about 5-9 minutes on 2 cores, 630 MB), so exposeVscode never waits for it.
  if (opts.vscode ?? true) await ensureCodeServer({ imageDir, toolsDir: opts.toolsDir, onProgress: emit });
  return report;
}
