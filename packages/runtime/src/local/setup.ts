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

export interface SetupLocalHostOptions {
  imageDir?: string;
  bases?: string[];
  onProgress?: (e: ProgressEvent) => void;
}

export const DEFAULT_BASES = ['debian'];

export function defaultImageDir(): string {
  return process.env.POCKETENV_IMAGE_DIR ?? '/var/cache/pocketenv/images';
}

export async function setupLocalHost(opts: SetupLocalHostOptions = {}): Promise<HostReport> {
  const emit = opts.onProgress ?? (() => undefined);
  const imageDir = opts.imageDir ?? defaultImageDir();
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
  return report;
}
