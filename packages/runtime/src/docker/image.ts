/**
 * Base images for the docker provider, from the SAME templates and builds as the local provider
 * (so a `debian` sandbox is the same system on both): the local image store builds the base's
 * rootfs once (../local/images), and this module imports it into the engine once per version
 * as `pocketenv-base/<base>:<hash>`, streaming a tar to the Engine API (`docker import`).
 *
 * The cached rootfs is owned by the shifted uid range (UID_BASE..), so the tar headers shift
 * ownership back to 0..; a derived base (`from`) is a stack of layers, flattened through a
 * read-only overlay mount of them. Device nodes are left out (the engine gives every container
 * its own /dev); hard links become copies.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rmdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import tarFs from 'tar-fs';
import type { BaseImages, ImageMarker } from '../local/images/index';
import { UID_BASE, UID_COUNT } from '../local/images/index';
import { ProviderError } from '../provider/errors';
import type { ProgressEvent } from '../provider/types';
import { mustRun, runCommand } from '../shared/command';
import { DEFAULT_PATH, WORKSPACE } from '../shared/sandbox-defaults';
import { LABEL_BASE, LABEL_MANAGED } from './labels';

const IMPORT_MOUNT_BASE = '/run/pocketenv/docker-import';

/** The engine's name for the current version of `base`. */
export function baseImageRef(images: BaseImages, base: string): string {
  const version = basename(images.imagePath(base)).slice(base.length + 1); // `<base>-<hash>`
  return `pocketenv-base/${base}:${version}`;
}

export async function imagePresent(docker: Dockerode, ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

/** Bytes of the rootfs layers (from the build markers), for the import's progress fraction. */
async function layersSize(images: BaseImages, base: string): Promise<number | undefined> {
  let total = 0;
  for (const layer of images.lowerDirs(base)) {
    const marker = JSON.parse(await readFile(join(layer, '..', 'image.json'), 'utf8')) as ImageMarker;
    if (!marker.sizeBytes) return undefined;
    total += marker.sizeBytes;
  }
  return total;
}

/** A tar of `dir` with ownership shifted from the image store's range back to 0.. */
function packShifted(dir: string): Readable {
  const unshift = (id: number) => (id >= UID_BASE && id < UID_BASE + UID_COUNT ? id - UID_BASE : id);
  return tarFs.pack(dir, {
    umask: 0, // keep every mode bit as built (/tmp is 1777)
    strict: false, // skip device nodes and sockets instead of failing
    map: (header) => ({ ...header, uid: unshift(header.uid ?? 0), gid: unshift(header.gid ?? 0) }),
  } as tarFs.PackOptions) as unknown as Readable; // `umask` is a tar-fs option its types lack
}

/** Reads the engine's JSON-lines answer to an import; throws on an `error` line. */
async function readImportAnswer(answer: NodeJS.ReadableStream): Promise<void> {
  let text = '';
  for await (const chunk of answer as AsyncIterable<Buffer>) text += chunk.toString('utf8');
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const parsed = JSON.parse(line) as { error?: string; errorDetail?: { message?: string } };
    if (parsed.error) throw new ProviderError(`the Docker Engine refused the base image: ${parsed.errorDetail?.message ?? parsed.error}`);
  }
}

/**
 * Imports the built rootfs of `base` as `ref`. Progress: fraction of the rootfs bytes sent.
 * A derived base is flattened through a read-only overlay of its layers (top first).
 */
export async function importBaseImage(
  docker: Dockerode,
  images: BaseImages,
  base: string,
  ref: string,
  emit: (e: ProgressEvent) => void,
): Promise<void> {
  const layers = images.lowerDirs(base);
  let root = layers[0]!;
  let mountPoint: string | undefined;
  if (layers.length > 1) {
    mountPoint = join(IMPORT_MOUNT_BASE, `${base}-${randomBytes(4).toString('hex')}`);
    await mkdir(mountPoint, { recursive: true, mode: 0o700 });
    await mustRun('mount', ['-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${layers.join(':')}`, mountPoint]);
    root = mountPoint;
  }
  try {
    const total = await layersSize(images, base);
    const tar = packShifted(root);
    let sent = 0;
    let lastStep = -1;
    tar.on('data', (chunk: Buffer) => {
      sent += chunk.length;
      const fraction = total ? Math.min(0.99, sent / total) : undefined;
      const step = fraction === undefined ? Math.floor(sent / (64 << 20)) : Math.floor(fraction * 50);
      if (step !== lastStep) {
        lastStep = step;
        emit({ phase: 'import', fraction, message: `importing ${base} into the Docker Engine (${Math.round(sent / 1048576)} MiB sent)` });
      }
    });
    const [repo, tag] = ref.split(':') as [string, string];
    const answer = await docker.importImage(tar, {
      repo,
      tag,
      changes: [
        `ENV PATH=${DEFAULT_PATH} LANG=C.UTF-8`,
        `WORKDIR ${WORKSPACE}`,
        'CMD ["sleep", "infinity"]',
        `LABEL ${LABEL_MANAGED}=true ${LABEL_BASE}=${base}`,
      ],
    } as unknown as Record<string, unknown>);
    await readImportAnswer(answer);
  } finally {
    if (mountPoint) {
      await runCommand('umount', [mountPoint]);
      await rmdir(mountPoint).catch(() => undefined);
    }
  }
}
