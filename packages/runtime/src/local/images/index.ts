/**
 * The base image store of the local provider.
 *
 * Layout under `imageDir` (machine-wide, shared by every server and test):
 *
 *   <name>-<hash16>/image.json   marker, written before the dir is renamed into place
 *   <name>-<hash16>/rootfs/      the image's layer, owned by UID_BASE.. (read-only lower dir)
 *   <name>-<hash16>/build.log    full output of the build
 *   .<name>.lock                 flock target: one build per base at a time, machine-wide
 *   .build-<name>-…              in-progress build (removed when a build starts or fails)
 *
 * Versions are content addressed: the hash covers the template, the build recipe
 * and the parent's hash. Editing a template makes `rootfs()` point at a new dir
 * that `ensure` then builds; the old dir stays intact, so a sandbox created on it
 * keeps working (nothing is deleted under a mounted overlay).
 *
 * Layering: a derived template (`from`) is NOT flattened. Its dir holds only its
 * own layer; the overlay lower dirs of a base are `lowerDirs(base)` =
 * [own layer, parent layer, …, root rootfs] (top first), and `rootfs(base)` is
 * those joined with ':' — ready to use as `lowerdir=` (a single path for a root
 * base such as `debian`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, chmod, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BaseInfo, ProgressEvent } from '../../provider/types';
import { UnknownBaseError } from '../../provider/errors';
import { AptProgress, MMDEBSTRAP_STAGES } from './apt-progress';
import { diskUsage, removeTree } from './fs-util';
import { buildLayer, layerStages } from './layer-build';
import { acquireLock } from './lock';
import { buildRoot } from './root-build';
import { shiftOwnership, UID_BASE, UID_COUNT } from './shift';
import { chainOf, DEFAULT_TEMPLATE_DIR, loadTemplates, templateHash, type Template } from './template';

export { UID_BASE, UID_COUNT };
export { TemplateError, type Template } from './template';

export interface BaseImagesOptions {
  imageDir: string;
  /** Where the `*.json` templates live; default `packages/runtime/templates`. */
  templateDir?: string;
}

/** Contents of `<name>-<hash>/image.json`. */
export interface ImageMarker {
  name: string;
  hash: string;
  from?: string;
  template: Template;
  builtAt: string;
  buildSeconds: number;
  sizeBytes?: number;
}

const MARKER = 'image.json';

export class BaseImages {
  readonly imageDir: string;
  readonly templateDir: string;

  constructor(opts: BaseImagesOptions) {
    this.imageDir = opts.imageDir;
    this.templateDir = opts.templateDir ?? DEFAULT_TEMPLATE_DIR;
  }

  /** Templates are re-read on every call: they are tiny, and an edit must be seen without a restart. */
  private templates(): Map<string, Template> {
    return loadTemplates(this.templateDir);
  }

  private known(base: string): Map<string, Template> {
    const all = this.templates();
    if (!all.has(base)) throw new UnknownBaseError(base, [...all.keys()]);
    return all;
  }

  async list(): Promise<BaseInfo[]> {
    const all = this.templates();
    return Promise.all(
      [...all.values()].map(async (t) => ({ name: t.name, description: t.description, ready: await this.isReady(t.name) })),
    );
  }

  /** Directory of one version of a base: marker, layer and build log. */
  imagePath(base: string): string {
    const all = this.known(base);
    return join(this.imageDir, `${base}-${templateHash(base, all)}`);
  }

  /** The base's overlay lower dirs, top layer first (one entry for a root base). */
  lowerDirs(base: string): string[] {
    const all = this.known(base);
    return chainOf(base, all).map((t) => join(this.imageDir, `${t.name}-${templateHash(t.name, all)}`, 'rootfs'));
  }

  /** What to pass as overlay `lowerdir=`: the rootfs path of a root base, `child:parent:…` for a derived one. */
  rootfs(base: string): string {
    return this.lowerDirs(base).join(':');
  }

  async isReady(base: string): Promise<boolean> {
    const all = this.known(base);
    return chainOf(base, all).every((t) => this.markerMatches(t.name, templateHash(t.name, all)));
  }

  private markerMatches(name: string, hash: string): boolean {
    const marker = join(this.imageDir, `${name}-${hash}`, MARKER);
    if (!existsSync(marker)) return false;
    try {
      const parsed = JSON.parse(readFileSync(marker, 'utf8')) as ImageMarker;
      return parsed.hash === hash && parsed.name === name;
    } catch {
      return false;
    }
  }

  /**
   * Builds the base (and its parents) once, machine-wide; returns `rootfs(base)`. Aborting
   * `signal` stops a build in progress (it leaves nothing behind) and rejects with its reason.
   */
  async ensure(base: string, onProgress?: (e: ProgressEvent) => void, signal?: AbortSignal): Promise<string> {
    const all = this.known(base);
    const template = all.get(base)!;
    if (template.from) await this.ensure(template.from, onProgress, signal);
    const hash = templateHash(base, all);
    const emit = (e: ProgressEvent) => onProgress?.({ ...e, phase: `${base}: ${e.phase}` });
    if (!this.markerMatches(base, hash)) {
      await mkdir(this.imageDir, { recursive: true, mode: 0o755 });
      const lock = await acquireLock(join(this.imageDir, `.${base}.lock`), () =>
        emit({ phase: 'waiting', message: `another process is building ${base}; waiting for it` }),
        signal,
      );
      try {
        // Whoever held the lock before us may have just built it.
        if (!this.markerMatches(base, hash)) await this.build(template, all, hash, emit, signal);
      } finally {
        await lock.release();
      }
    }
    emit({ phase: 'ready', fraction: 1 });
    return this.rootfs(base);
  }

  private async build(template: Template, all: Map<string, Template>, hash: string, emit: (e: ProgressEvent) => void, signal?: AbortSignal): Promise<void> {
    const name = template.name;
    const started = Date.now();
    // We hold the lock: any earlier build dir of this base is left over from a crash.
    // (Exact pattern: `.build-node-` must not match a `.build-node-extra-…` of another base.)
    const leftover = new RegExp(`^\\.build-${name}-[0-9a-f]{16}-\\d+$`);
    for (const entry of await readdir(this.imageDir)) {
      if (leftover.test(entry)) await removeTree(join(this.imageDir, entry));
    }
    const tmp = join(this.imageDir, `.build-${name}-${hash}-${process.pid}`);
    const rootfs = join(tmp, 'rootfs');
    const log = join(tmp, 'build.log');
    await mkdir(tmp, { recursive: true });
    await writeFile(log, '');
    // Lines are appended in order through one promise chain; a log write never fails the build.
    let logging = Promise.resolve();
    const logLine = (line: string) => {
      logging = logging.then(() => appendFile(log, line + '\n')).catch(() => undefined);
    };
    emit({ phase: 'start', fraction: 0, message: `building base ${name} (once; about a minute)` });
    try {
      if (template.from) {
        const progress = new AptProgress(layerStages(template), emit);
        await buildLayer(template, this.lowerDirs(template.from), { layer: rootfs, scratch: join(tmp, 'scratch') }, (line) => {
          logLine(line);
          progress.line(line);
        }, signal);
      } else {
        const progress = new AptProgress(MMDEBSTRAP_STAGES, emit);
        await buildRoot(template, rootfs, (line) => {
          logLine(line);
          progress.line(line);
        }, signal);
        signal?.throwIfAborted();
        progress.enter('finish', 0.94, 'preparing /workspace and /tmp');
        await prepareRootTree(rootfs);
        progress.enter('shift', 0.96, `shifting ownership to uid ${UID_BASE}..${UID_BASE + UID_COUNT - 1}`);
        await shiftOwnership(rootfs, logLine);
      }
      await logging;
      const marker: ImageMarker = {
        name,
        hash,
        ...(template.from ? { from: template.from } : {}),
        template,
        builtAt: new Date().toISOString(),
        buildSeconds: Math.round((Date.now() - started) / 100) / 10,
        sizeBytes: await diskUsage(rootfs),
      };
      await writeFile(join(tmp, MARKER), JSON.stringify(marker, null, 2) + '\n');
      const final = join(this.imageDir, `${name}-${hash}`);
      // A dir without a valid marker is an interrupted earlier attempt: replace it.
      if (existsSync(final)) await removeTree(final);
      await rename(tmp, final);
    } catch (err) {
      await logging;
      const kept = join(this.imageDir, `.failed-${name}.log`);
      // A stopped build is not a failure worth a log; the next ensure starts it over.
      if (!signal?.aborted) await rename(log, kept).catch(() => undefined);
      await removeTree(tmp).catch(() => undefined);
      if (signal?.aborted) throw signal.reason;
      throw new Error(`building base ${name} failed (full log: ${kept}): ${(err as Error).message}`, { cause: err });
    }
  }
}

/** Post-processing of a fresh mmdebstrap tree, before the ownership shift. */
async function prepareRootTree(rootfs: string): Promise<void> {
  // The sandbox's working directory (exec cwd default, repo clone target).
  await mkdir(join(rootfs, 'workspace'), { recursive: true });
  await chmod(join(rootfs, 'workspace'), 0o755);
  // apt's gpgv (running as _apt) needs a world-writable sticky /tmp.
  await chmod(join(rootfs, 'tmp'), 0o1777);
  await chmod(join(rootfs, 'var/tmp'), 0o1777);
  // Host identity must not leak into the image (mmdebstrap copies the host's
  // resolv.conf and hostname). The files stay, empty or neutral, because they are
  // bind-mount targets the provider mounts over at run time; without them the
  // runtime would create them in every sandbox's upper dir.
  await writeNeutral(join(rootfs, 'etc/resolv.conf'), '');
  await writeNeutral(join(rootfs, 'etc/hostname'), 'localhost\n');
  await writeNeutral(join(rootfs, 'etc/hosts'), '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n');
}

async function writeNeutral(path: string, content: string): Promise<void> {
  // Replace rather than write through: the path may be a symlink out of the tree.
  await rm(path, { force: true });
  await writeFile(path, content, { mode: 0o644 });
  await chmod(path, 0o644);
}
