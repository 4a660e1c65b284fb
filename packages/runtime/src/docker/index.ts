/**
 * The `docker` provider: every sandbox is a container of a Docker Engine (local socket, a
 * remote DOCKER_HOST, Docker Desktop), made from the same base templates as the local provider.
 *
 * This class only sequences; the work lives in connection.ts, image.ts (bases), lifecycle.ts
 * (create/start/stop/delete), exec.ts, files.ts, terminal.ts, volumes.ts, network.ts (isolation)
 * and reconcile.ts (what exists, crash leftovers). What the provider remembers itself is only
 * each sandbox's start env and volumes (a 0600 JSON file per sandbox in its state dir); the
 * engine's labels say which containers are ours.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { BaseImages } from '../local/images/index';
import { DEFAULT_TOOLS_DIR, ensureToolsDir } from '../local/tools/code-server';
import { DEFAULT_IMAGE_DIR } from '../local/images/default-dir';
import { HostNotReadyError, ProviderError, SandboxMissingError, UnsupportedCapabilityError } from '../provider/errors';
import type {
  BaseInfo,
  Capability,
  CreateSpec,
  ExecOptions,
  ExecProcess,
  ExecResult,
  ExecStreamHandlers,
  FileToWrite,
  ObservedSandbox,
  ProgressEvent,
  Provider,
  StartSpec,
  TerminalCommand,
  TerminalOptions,
} from '../provider/types';
import { readJson, writeJsonAtomic } from '../shared/json-file';
import { instanceId } from './instance';
import { assertRepoUrl, cloneRepo } from '../shared/repo';
import { baseEnv, envList, WORKSPACE } from '../shared/sandbox-defaults';
import { assertResources, assertValidHostname, assertValidId, checkEnvNames, checkExecEnv, checkFiles, checkVolumes, sandboxPathComponents } from '../shared/sandbox-input';
import { LOGIN_SHELL } from '../shared/terminal-shell';
import { diskQuotaMiB } from './container-spec';
import { connect, defaultEndpoint, parseEndpoint, type DockerEndpoint } from './connection';
import { containerError, createExec, runExec, streamExec, type ExecSpec } from './exec';
import { readFileInside, writeFileInside, type RunInSandbox } from './files';
import { baseImageRef, imagePresent, importBaseImage } from './image';
import { containerName, LABEL_OWNER } from './labels';
import { createContainer, engineFacts, removeSandbox, replaceContainer, sameVolumes, specOf, type EngineFacts } from './lifecycle';
import { applyHostRules, ensureNetwork } from './network';
import { observeAll, observeOne, reconcileLeftovers, stateOf } from './reconcile';
import { terminalCommand } from './terminal';
import { ensureVolumes, mountedVolumes, ourVolumes } from './volumes';

export interface DockerProviderOptions {
  /** Where the provider keeps each sandbox's start env and volumes. */
  stateDir: string;
  /** DOCKER_HOST-style endpoint; default $DOCKER_HOST or unix:///var/run/docker.sock. */
  endpoint?: string;
  /** Machine-wide base image cache (the local provider's builds); default /var/cache/pocketenv/images. */
  imageDir?: string;
  /** Shared read-only tools (code-server); default /var/cache/pocketenv/tools. */
  toolsDir?: string;
  /**
   * `auto` (default): a disk quota when the engine's storage driver can enforce one, else none
   * (and probe() says so). `required`: creating a sandbox on such an engine is an
   * UnsupportedCapabilityError.
   */
  diskLimit?: 'auto' | 'required';
}

/** The saved part of a StartSpec (files and repo are one-shot). */
interface SavedStart {
  env: Record<string, string>;
  volumes: StartSpec['volumes'];
}

/** How long start waits for the first exec to work after the container started. */
const READY_TIMEOUT_MS = 30_000;

export class DockerProvider implements Provider {
  readonly name = 'docker';
  readonly capabilities: ReadonlySet<Capability>;
  readonly endpoint: DockerEndpoint;
  readonly stateDir: string;
  private readonly docker: Dockerode;
  private readonly images: BaseImages;
  private readonly diskLimit: 'auto' | 'required';
  private readonly sharedToolsDir: string;
  private factsPromise?: Promise<EngineFacts>;
  /** This instance's owner label value (from its state dir); set by facts(). */
  private owner = '';
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly imports = new Map<string, Promise<void>>();
  private readonly startCache = new Map<string, SavedStart>();
  private readonly hostnames = new Map<string, string>();

  constructor(opts: DockerProviderOptions) {
    this.endpoint = parseEndpoint(opts.endpoint ?? defaultEndpoint());
    this.stateDir = opts.stateDir;
    this.docker = connect(this.endpoint);
    this.images = new BaseImages({ imageDir: opts.imageDir ?? DEFAULT_IMAGE_DIR });
    this.diskLimit = opts.diskLimit ?? 'auto';
    this.sharedToolsDir = opts.toolsDir ?? DEFAULT_TOOLS_DIR;
    const caps: Capability[] = ['exec', 'execStream', 'files', 'network', 'repo', 'stopStart', 'limits', 'terminal'];
    // A volume is a host directory bound through a docker volume: only an engine on this host sees it.
    if (this.endpoint.local) caps.push('volumes');
    this.capabilities = new Set(caps);
  }

  /**
   * First use: what the engine can do (storage driver, remapping), our network and host
   * rules, and the cleanup of what a crashed server left half done.
   */
  private facts(): Promise<EngineFacts> {
    this.factsPromise ??= (async () => {
      const facts = await engineFacts(this.docker);
      this.owner = await instanceId(this.stateDir);
      if (this.endpoint.local) await applyHostRules();
      await ensureNetwork(this.docker);
      await reconcileLeftovers(this.docker, this.owner);
      return facts;
    })().catch((err: unknown) => {
      this.factsPromise = undefined;
      throw err instanceof ProviderError ? err : new HostNotReadyError(`the Docker Engine at ${this.endpoint.url} is not usable: ${(err as Error).message}`);
    });
    return this.factsPromise;
  }

  private serialized<T>(id: string, op: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(id) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(op);
    this.queues.set(id, next);
    void next
      .finally(() => {
        if (this.queues.get(id) === next) this.queues.delete(id);
      })
      .catch(() => undefined);
    return next;
  }

  async probe(): Promise<{ available: boolean; reason?: string }> {
    try {
      await this.docker.ping();
    } catch (err) {
      return { available: false, reason: `no Docker Engine answers at ${this.endpoint.url}: ${(err as Error).message}` };
    }
    try {
      const facts = await this.facts();
      if (!facts.diskQuota) {
        return {
          available: true,
          reason: `disk limits are not enforced: the engine's storage driver (${facts.storageDriver}) cannot limit a container's disk (btrfs, zfs or overlay2 on XFS with pquota can)`,
        };
      }
    } catch (err) {
      return { available: false, reason: (err as Error).message };
    }
    return { available: true };
  }

  async listBases(): Promise<BaseInfo[]> {
    const bases = await this.images.list();
    return Promise.all(
      bases.map(async (b) => ({ ...b, ready: b.ready && (await imagePresent(this.docker, baseImageRef(this.images, b.name)).catch(() => false)) })),
    );
  }

  /** Builds the base with the local image store (once per machine), then imports it into the engine (once per version). */
  async prepareBase(base: string, onProgress?: (e: ProgressEvent) => void): Promise<void> {
    const ref = baseImageRef(this.images, base); // UnknownBaseError for a base nobody knows
    let pending = this.imports.get(ref);
    if (!pending) {
      pending = (async () => {
        await this.images.ensure(base, onProgress);
        if (await imagePresent(this.docker, ref)) return;
        const emit = (e: ProgressEvent) => onProgress?.({ ...e, phase: `${base}: ${e.phase}` });
        await importBaseImage(this.docker, this.images, base, ref, emit);
        emit({ phase: 'imported', fraction: 1 });
      })().finally(() => this.imports.delete(ref));
      this.imports.set(ref, pending);
    }
    await pending;
  }

  async create(spec: CreateSpec): Promise<void> {
    assertValidId(spec?.id);
    assertValidHostname(spec.hostname);
    assertResources(spec);
    const facts = await this.facts();
    const image = baseImageRef(this.images, spec.base); // UnknownBaseError before anything exists
    await this.serialized(spec.id, async () => {
      if (await this.inspect(spec.id)) return; // idempotent: an existing sandbox keeps its files
      if (!(await imagePresent(this.docker, image))) await this.prepareBase(spec.base);
      if (!facts.diskQuota && this.diskLimit === 'required') {
        throw new UnsupportedCapabilityError(
          this.name,
          'limits',
          `the engine's storage driver (${facts.storageDriver}) cannot enforce resources.diskGiB; use btrfs, zfs or overlay2 on XFS with pquota, or set the disk limit to auto`,
        );
      }
      await createContainer(this.docker, {
        spec,
        owner: this.owner,
        image,
        volumes: [],
        localEngine: this.endpoint.local,
        toolsDir: await this.toolsDir(),
        diskQuotaMiB: await this.diskQuota(facts, spec, image),
      });
    });
  }

  /** The quota for a container of `spec` from `image`, when the storage driver enforces one. */
  private async diskQuota(facts: EngineFacts, spec: CreateSpec, image: string): Promise<number | undefined> {
    if (!facts.diskQuota) return undefined;
    const { Size } = await this.docker.getImage(image).inspect();
    return diskQuotaMiB(spec.resources.diskGiB, facts.storageDriver, Size);
  }

  private async toolsDir(): Promise<string | undefined> {
    if (!this.endpoint.local) return undefined;
    const dir = this.sharedToolsDir;
    await ensureToolsDir(dir);
    return dir;
  }

  /** The sandbox's container, when it exists and is this instance's (another server's is not ours to see). */
  private async inspect(id: string): Promise<Dockerode.ContainerInspectInfo | undefined> {
    try {
      const info = await this.docker.getContainer(containerName(id)).inspect();
      return info.Config.Labels?.[LABEL_OWNER] === this.owner ? info : undefined;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw containerError(err, id);
    }
  }

  private startFile(id: string): string {
    return join(this.stateDir, 'sandboxes', `${id}.json`);
  }

  private async savedStart(id: string): Promise<SavedStart> {
    let saved = this.startCache.get(id);
    if (!saved) {
      saved = (await readJson<SavedStart>(this.startFile(id))) ?? { env: {}, volumes: undefined };
      this.startCache.set(id, saved);
    }
    return saved;
  }

  async start(id: string, spec?: StartSpec): Promise<void> {
    assertValidId(id);
    if (spec?.repo !== undefined) assertRepoUrl(spec.repo);
    const files = checkFiles(spec?.files ?? []);
    if (spec?.volumes?.length && !this.capabilities.has('volumes')) {
      throw new UnsupportedCapabilityError(this.name, 'volumes', `the engine at ${this.endpoint.url} is not on this host, so it cannot bind the server's volume directories; run the server beside the engine`);
    }
    const volumes = spec?.volumes !== undefined ? checkVolumes(spec.volumes) : undefined;
    if (spec?.env) checkEnvNames(spec.env);
    const facts = await this.facts();
    await this.serialized(id, async () => {
      let info = await this.inspect(id);
      if (!info) throw new SandboxMissingError(id);
      const saved = await this.savedStart(id);
      const next: SavedStart = { env: spec?.env !== undefined ? { ...spec.env } : saved.env, volumes: volumes ?? saved.volumes };
      await writeJsonAtomic(this.startFile(id), next);
      this.startCache.set(id, next);
      const running = stateOf(info) === 'running';
      // Volumes are fixed when a container is made: other volumes mean a new container with the
      // same files. On a running sandbox they take effect at its next start (as on `local`).
      if (!running && next.volumes && !sameVolumes(mountedVolumes(info, await ourVolumes(this.docker)), next.volumes)) {
        const mounts = await ensureVolumes(this.docker, next.volumes, facts.remappedRoot);
        const toolsDir = await this.toolsDir();
        const spec = specOf(info);
        const diskQuotaMiB = await this.diskQuota(facts, spec, spec.base ? baseImageRef(this.images, spec.base) : info.Config.Image);
        info = await replaceContainer(this.docker, info, (image) => ({
          spec,
          owner: this.owner,
          image,
          volumes: mounts,
          localEngine: this.endpoint.local,
          toolsDir,
          diskQuotaMiB,
        }));
      }
      if (!running) {
        await this.docker
          .getContainer(info.Id)
          .start()
          .catch((err: unknown) => {
            if ((err as { statusCode?: number }).statusCode !== 304) throw containerError(err, id);
          });
        await this.waitReady(id);
      }
      try {
        if (spec?.repo) await cloneRepo(spec.repo, (args, env, timeoutMs) => this.run(id, args, { env, timeoutMs }));
        for (const { file } of files) await writeFileInside(this.runner(id), file, id);
      } catch (err) {
        // A start that booted either fully succeeds or leaves the sandbox stopped.
        if (!running) await this.docker.getContainer(info.Id).stop({ t: 0 }).catch(() => undefined);
        throw err;
      }
    });
  }

  /** The first exec right after a start can race the init; retry until one works. */
  private async waitReady(id: string): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const r = await this.run(id, ['true'], { timeoutMs: 10_000 }).catch((err: unknown) => err as Error);
      if (!(r instanceof Error) && r.exitCode === 0) return;
      if (Date.now() > deadline) {
        throw new ProviderError(`sandbox ${id} started but does not run commands: ${r instanceof Error ? r.message : r.stderr.toString().trim()}`);
      }
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  async stop(id: string): Promise<void> {
    assertValidId(id);
    await this.facts();
    await this.serialized(id, async () => {
      try {
        // SIGTERM to the init, SIGKILL to everything after 2 s (the local provider's grace).
        await this.docker.getContainer(containerName(id)).stop({ t: 2 });
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 304) throw containerError(err, id); // 304: already stopped
      }
    });
  }

  async delete(id: string): Promise<void> {
    assertValidId(id);
    await this.facts();
    await this.serialized(id, async () => {
      this.startCache.delete(id);
      this.hostnames.delete(id);
      if (await this.inspect(id)) await removeSandbox(this.docker, id);
      await rm(this.startFile(id), { force: true });
    });
  }

  async list(): Promise<ObservedSandbox[]> {
    await this.facts();
    return observeAll(this.docker, this.owner);
  }

  async observe(id: string): Promise<ObservedSandbox> {
    assertValidId(id);
    await this.facts();
    return observeOne(await this.inspect(id), id);
  }

  private async hostnameOf(id: string): Promise<string> {
    let hostname = this.hostnames.get(id);
    if (!hostname) {
      const info = await this.inspect(id);
      if (!info) throw new SandboxMissingError(id);
      hostname = info.Config.Hostname;
      this.hostnames.set(id, hostname);
    }
    return hostname;
  }

  private async execSpec(id: string, args: string[], opts: { cwd?: string; env?: Record<string, string> }): Promise<ExecSpec> {
    assertValidId(id);
    const cwd = opts.cwd ?? WORKSPACE;
    if (cwd !== '/') sandboxPathComponents(cwd); // absolute, no '..'
    checkExecEnv(opts.env);
    const hostname = await this.hostnameOf(id);
    const saved = await this.savedStart(id);
    return { args, env: envList(baseEnv(hostname), saved.env, opts.env), cwd, hostSweep: this.endpoint.local };
  }

  private container(id: string): Dockerode.Container {
    return this.docker.getContainer(containerName(id));
  }

  /** exec with argv instead of a shell command (internal: git clone, files). */
  private async run(id: string, args: string[], opts: ExecOptions): Promise<ExecResult> {
    await this.facts();
    const spec = await this.execSpec(id, args, opts);
    return runExec(this.container(id), id, spec, opts);
  }

  private runner(id: string): RunInSandbox {
    return (args, opts) => this.run(id, args, { ...opts, cwd: '/' });
  }

  exec(id: string, command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return this.run(id, ['/bin/sh', '-c', command], opts);
  }

  async execStream(id: string, command: string, handlers: ExecStreamHandlers, opts: Omit<ExecOptions, 'stdin' | 'maxOutputBytes'> = {}): Promise<ExecProcess> {
    await this.facts();
    const spec = await this.execSpec(id, ['/bin/sh', '-c', command], opts);
    return streamExec(this.container(id), id, spec, handlers, opts);
  }

  async terminalCommand(id: string, opts: TerminalOptions): Promise<TerminalCommand> {
    await this.facts();
    const spec = await this.execSpec(id, LOGIN_SHELL, { cwd: opts.cwd, env: { TERM: 'xterm-256color', ...opts.env } });
    const container = this.container(id);
    const { exec, tag } = await createExec(container, id, { ...spec, tty: true });
    return terminalCommand(container, exec, tag, { connection: this.endpoint.options, ttyDir: join(this.stateDir, 'tty'), hostSweep: this.endpoint.local }, opts);
  }

  async writeFiles(id: string, files: FileToWrite[]): Promise<void> {
    const checked = checkFiles(files); // every path before anything is written
    assertValidId(id);
    for (const { file } of checked) await writeFileInside(this.runner(id), file, id);
  }

  async readFile(id: string, path: string): Promise<Buffer> {
    sandboxPathComponents(path);
    return readFileInside(this.runner(id), path, id);
  }
}
