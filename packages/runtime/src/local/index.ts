/**
 * The `local` provider: sandboxes as OCI containers on this host (crun, or runc),
 * each with its own user/pid/mount/uts/ipc/cgroup/network namespaces, an overlay
 * root over a cached Debian base, cgroup limits, seccomp and catatonit as PID 1.
 *
 * This class only sequences; the work lives in lifecycle.ts (create/start/stop/
 * delete), exec.ts, ../shared/safe-path.ts (files), reconcile.ts (what exists, crash
 * recovery), ../shared/repo.ts and the network/ and images/ modules.
 */
import { lstat, mkdir } from 'node:fs/promises';
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
import { HostNotReadyError, ProviderError, SandboxMissingError, SandboxNotRunningError } from '../provider/errors';
import { isMounted } from './overlay';
import { cgroupLayout, sandboxPids } from './cgroups';
import type { LocalContext } from './context';
import { acquireDriverLock } from './driver-lock';
import { isSameLiveProcess, processStartTime } from '../shared/proc-stat';
import { runExec, streamExec, type ExecTarget } from './exec';
import { checkHost, describeProblems } from './host-check';
import { BaseImages } from './images/index';
import {
  bootSandbox,
  createSandbox,
  destroySandbox,
  requireSpec,
  saveStartSpec,
  teardown,
} from './lifecycle';
import { SandboxNetworks } from './network/index';
import { baseEnv, envList, processSpec, SANDBOX_UID_BASE, WORKSPACE } from './oci-config';
import { findBinary, OciRuntime, pickRuntime, type ContainerState } from './oci-runtime';
import { KeyedQueue } from '../shared/keyed-queue';
import { assertValidId, checkExecEnv, checkFiles } from '../shared/sandbox-input';
import { containerIdOf, StatePaths } from './paths';
import { observeAll, observeOne, reconcile } from './reconcile';
import { forkSandbox } from './fork';
import { assertRepoUrl, cloneRepo } from '../shared/repo';
import { locate, readFileInRoot, sandboxPathComponents, writeFileInRoot, type FileRoot } from '../shared/safe-path';
import { mountedVolumes, readStart, type SavedStart } from './store';
import { LOGIN_SHELL, terminalCommand } from './terminal';
import { launchAgent } from './agent/index';
import { renameSandbox } from './hostname';
import { DEFAULT_IMAGE_DIR } from './images/default-dir';
import { DEFAULT_TOOLS_DIR } from './tools/code-server';

const AGENT_RELAUNCH_MS = 5000;

/**
 * Whether a remembered init is still that very process, alive: same kernel start time (pid
 * reuse changes it) and not a zombie (a killed init stays in /proc until it is reaped).
 */
const stillRunning = isSameLiveProcess;

export interface LocalProviderOptions {
  /** Where this provider keeps its sandboxes (one provider process per dir). */
  stateDir: string;
  /** Machine-wide base image cache; default /var/cache/pocketenv/images (the server passes POCKETENV_IMAGE_DIR). */
  imageDir?: string;
  /** Shared tools (code-server) mounted into sandboxes; default /var/cache/pocketenv/tools (POCKETENV_TOOLS_DIR). */
  toolsDir?: string;
  /** Run execs through the in-sandbox agent (default); false sends every exec through the OCI runtime's exec, for comparison and debugging (POCKETENV_EXEC_AGENT=0). */
  execAgent?: boolean;
  /** Force an OCI runtime; default crun, runc when crun is not installed. */
  ociRuntime?: 'crun' | 'runc';
  /** How long a sandbox's exec agent may take to confirm a command's start before it counts as not answering (default 30 s). */
  execAgentStartTimeoutMs?: number;
}

const CAPABILITIES: ReadonlySet<Capability> = new Set<Capability>([
  'exec',
  'execStream',
  'files',
  'volumes',
  'network',
  'repo',
  'stopStart',
  'limits',
  'terminal',
  'pause',
  'fork',
]);

export class LocalProvider implements Provider {
  readonly name = 'local';
  readonly capabilities = CAPABILITIES;
  readonly stateDir: string;
  readonly imageDir: string;
  readonly toolsDir: string;
  private readonly execAgent: boolean;
  private readonly paths: StatePaths;
  private readonly images: BaseImages;
  private readonly preferredRuntime?: 'crun' | 'runc';
  private ctxPromise?: Promise<LocalContext>;
  /** Lifecycle operations on one id run one at a time. */
  private readonly queues = new KeyedQueue();
  /** env/volumes per running sandbox, so exec does not re-read start.json. */
  private readonly startCache = new Map<string, SavedStart>();
  /** Hostname per sandbox seen by exec (spec.json read once, not per exec). */
  private readonly hostnames = new Map<string, { hostname: string }>();
  /** When the exec agent of a sandbox was last (re)started on demand. */
  private readonly agentRelaunchedAt = new Map<string, number>();
  /**
   * Sandboxes whose exec agent broke the protocol or ignored a kill (code inside can replace
   * it): their execs go through the runtime's exec until the sandbox boots again. Not
   * relaunched on the spot, because whatever replaced it could do so again.
   */
  private readonly distrustedAgents = new Set<string>();
  private readonly agentStartTimeoutMs?: number;
  /** Init process of sandboxes seen running (see requireRunning). */
  private readonly runningInits = new Map<string, { pid: number; startTime: string }>();

  constructor(opts: LocalProviderOptions) {
    this.stateDir = opts.stateDir;
    this.imageDir = opts.imageDir ?? DEFAULT_IMAGE_DIR;
    this.toolsDir = opts.toolsDir ?? DEFAULT_TOOLS_DIR;
    this.execAgent = opts.execAgent ?? true;
    this.paths = new StatePaths(this.stateDir);
    this.images = new BaseImages({ imageDir: this.imageDir });
    this.preferredRuntime = opts.ociRuntime;
    this.agentStartTimeoutMs = opts.execAgentStartTimeoutMs;
  }

  /** Which OCI runtime drives the sandboxes (after the first operation). */
  async runtimeName(): Promise<'crun' | 'runc'> {
    return (await this.context()).runtime.name;
  }

  /**
   * First use: take the state dir, then reconcile it with what the host actually
   * has (adopting running sandboxes, cleaning whatever a dead driver left).
   */
  private context(): Promise<LocalContext> {
    this.ctxPromise ??= (async () => {
      const runtime = pickRuntime(this.preferredRuntime);
      if (!runtime) throw new HostNotReadyError(`no OCI runtime found (${this.preferredRuntime ?? 'crun or runc'}); run pocketenv setup`);
      const initBinary = findBinary('catatonit');
      if (!initBinary) throw new HostNotReadyError('catatonit (the sandbox init) is not installed; run pocketenv setup');
      await mkdir(this.stateDir, { recursive: true, mode: 0o700 });
      await acquireDriverLock(this.paths.lock, this.stateDir);
      for (const dir of [this.paths.ociRoot, this.paths.sandboxes, this.paths.trash]) await mkdir(dir, { recursive: true, mode: 0o700 });
      const networks = new SandboxNetworks();
      let hostRules: Promise<void> | undefined;
      const ctx: LocalContext = {
        paths: this.paths,
        runtime: new OciRuntime({ ...runtime, root: this.paths.ociRoot, cgroupMode: cgroupLayout().mode }),
        images: this.images,
        toolsDir: this.toolsDir,
        networks,
        initBinary,
        hostNetworkReady: () => {
          const ready =
            hostRules ??
            networks.ensureHostRules().catch((err: unknown) => {
              hostRules = undefined;
              throw err;
            });
          hostRules = ready;
          return ready;
        },
      };
      await reconcile(ctx);
      return ctx;
    })().catch((err) => {
      this.ctxPromise = undefined;
      throw err;
    });
    return this.ctxPromise;
  }

  /** Runs `op` after every earlier lifecycle operation on `id` has finished. */
  private serialized<T>(id: string, op: () => Promise<T>): Promise<T> {
    return this.queues.run(id, op);
  }

  async probe(): Promise<{ available: boolean; reason?: string }> {
    const report = await checkHost({});
    if (!report.ok) return { available: false, reason: describeProblems(report) };
    try {
      await this.context();
    } catch (err) {
      return { available: false, reason: (err as Error).message };
    }
    return { available: true };
  }

  listBases(): Promise<BaseInfo[]> {
    return this.images.list();
  }

  async prepareBase(base: string, onProgress?: (e: ProgressEvent) => void, signal?: AbortSignal): Promise<void> {
    await this.images.ensure(base, onProgress, signal);
  }

  async create(spec: CreateSpec): Promise<void> {
    const ctx = await this.context();
    assertValidId(spec?.id);
    await this.serialized(spec.id, () => createSandbox(ctx, spec));
  }

  async start(id: string, spec?: StartSpec): Promise<void> {
    const ctx = await this.context();
    assertValidId(id);
    if (spec?.repo !== undefined) assertRepoUrl(spec.repo);
    const files = checkFiles(spec?.files ?? []);
    await this.serialized(id, async () => {
      const alive = this.aliveState(id);
      this.runningInits.delete(id);
      const saved = await requireSpec(ctx, id);
      const start = await saveStartSpec(ctx, id, spec);
      this.startCache.set(id, start);
      let state = alive ?? (await ctx.runtime.state(containerIdOf(id)));
      // A paused sandbox is thawed, not rebooted: its processes are kept.
      if (state?.status === 'paused') {
        await ctx.runtime.resume(containerIdOf(id));
        state = { ...state, status: 'running' };
      }
      const booting = state?.status !== 'running';
      if (alive) this.runningInits.set(id, { pid: alive.pid, startTime: processStartTime(alive.pid)! });
      if (booting) {
        this.distrustedAgents.delete(id); // the boot starts a fresh agent
        if (state) await teardown(ctx, id, 0); // a half-started or dead container
        const initPid = await bootSandbox(ctx, saved, start);
        const startTime = processStartTime(initPid);
        if (startTime) this.runningInits.set(id, { pid: initPid, startTime });
      }
      // On a running sandbox, start only (re)applies: env for later execs, files, repo.
      // Volumes given now take effect at the next boot.
      try {
        // Clone first, so files given with the start (e.g. a .env) can land inside the checkout.
        if (spec?.repo) await cloneRepo(spec.repo, (args, env, timeoutMs) => this.run(ctx, id, args, { env, timeoutMs }));
        await this.writeChecked(ctx, id, files);
      } catch (err) {
        // A start that booted either fully succeeds or leaves the sandbox stopped.
        if (booting) {
          this.runningInits.delete(id); // its init is being killed: never answer from the cache
          await teardown(ctx, id).catch(() => undefined);
        }
        throw err;
      }
    });
  }

  async stop(id: string): Promise<void> {
    const ctx = await this.context();
    assertValidId(id);
    await this.serialized(id, async () => {
      const [spec, state] = await Promise.all([requireSpec(ctx, id).catch(() => undefined), ctx.runtime.state(containerIdOf(id))]);
      if (!spec && !state) throw new SandboxMissingError(id);
      this.runningInits.delete(id);
      this.distrustedAgents.delete(id);
      await teardown(ctx, id);
    });
  }

  async fork(sourceId: string, spec: CreateSpec): Promise<void> {
    const ctx = await this.context();
    assertValidId(sourceId);
    assertValidId(spec?.id);
    // Under the source's queue: no stop or start of the source while its image is copied.
    await this.serialized(sourceId, () => this.serialized(spec.id, () => forkSandbox(ctx, sourceId, spec)));
  }

  async pause(id: string): Promise<void> {
    const ctx = await this.context();
    assertValidId(id);
    await this.serialized(id, async () => {
      const state = await ctx.runtime.state(containerIdOf(id));
      if (state?.status === 'paused') return;
      if (state?.status !== 'running') {
        await requireSpec(ctx, id);
        throw new SandboxNotRunningError(id);
      }
      // Forget the init seen running: exec must not pass requireRunning and block on a frozen cgroup.
      this.runningInits.delete(id);
      await ctx.runtime.pause(containerIdOf(id));
    });
  }

  async resume(id: string): Promise<void> {
    const ctx = await this.context();
    assertValidId(id);
    await this.serialized(id, async () => {
      const state = await ctx.runtime.state(containerIdOf(id));
      if (state?.status === 'running') return;
      if (state?.status !== 'paused') {
        await requireSpec(ctx, id);
        throw new SandboxNotRunningError(id);
      }
      await ctx.runtime.resume(containerIdOf(id));
    });
  }

  async delete(id: string): Promise<void> {
    const ctx = await this.context();
    assertValidId(id);
    await this.serialized(id, async () => {
      this.startCache.delete(id);
      this.hostnames.delete(id);
      this.runningInits.delete(id);
      this.distrustedAgents.delete(id);
      await destroySandbox(ctx, id);
    });
  }

  async list(): Promise<ObservedSandbox[]> {
    const ctx = await this.context();
    return (await observeAll(ctx)).filter((s) => s.state !== 'missing');
  }

  async observe(id: string): Promise<ObservedSandbox> {
    const ctx = await this.context();
    assertValidId(id);
    return observeOne(ctx, id, this.aliveState(id));
  }

  /**
   * The container state of a sandbox seen running whose init still lives (pid + kernel start
   * time unchanged), without asking the runtime: a `state` spawn costs ~7 ms, much more under load.
   */
  private aliveState(id: string): ContainerState | undefined {
    const known = this.runningInits.get(id);
    if (!known || !stillRunning(known)) return undefined;
    return { id: containerIdOf(id), status: 'running', pid: known.pid };
  }

  /**
   * Throws the right typed error unless the sandbox is running. The runtime's
   * `state` costs a process spawn (~7 ms), so a sandbox seen running is
   * remembered by its init's pid and kernel start time: while that very process
   * lives (pid reuse changes the start time), the sandbox runs.
   */
  private async requireRunning(ctx: LocalContext, id: string): Promise<void> {
    assertValidId(id);
    const known = this.runningInits.get(id);
    if (known && stillRunning(known)) return;
    this.runningInits.delete(id);
    const state = await ctx.runtime.state(containerIdOf(id));
    if (state?.status === 'running') {
      const startTime = processStartTime(state.pid);
      if (startTime) this.runningInits.set(id, { pid: state.pid, startTime });
      return;
    }
    await requireSpec(ctx, id); // SandboxMissingError when there is nothing at all
    throw new SandboxNotRunningError(id);
  }

  private async startOf(ctx: LocalContext, id: string): Promise<SavedStart> {
    let start = this.startCache.get(id);
    if (!start) {
      start = await readStart(ctx.paths.sandbox(id));
      this.startCache.set(id, start);
    }
    return start;
  }

  private execTarget(ctx: LocalContext, id: string): ExecTarget {
    const p = ctx.paths.sandbox(id);
    return {
      argv: (processFile, pidFile) => ctx.runtime.execArgv(containerIdOf(id), processFile, pidFile),
      pids: () => sandboxPids(id),
      execDir: p.execDir,
      agentSocket: this.execAgent && !this.distrustedAgents.has(id) ? p.agentSocket : undefined,
      agentStartTimeoutMs: this.agentStartTimeoutMs,
      onAgentMissing: () => this.relaunchAgent(ctx, id),
      onAgentMisbehaved: () => this.distrustedAgents.add(id),
    };
  }

  /**
   * The agent is gone (killed inside, or the sandbox was booted by an older version):
   * start it again in the background, at most every few seconds per sandbox.
   */
  private relaunchAgent(ctx: LocalContext, id: string): void {
    const now = Date.now();
    if ((this.agentRelaunchedAt.get(id) ?? 0) > now - AGENT_RELAUNCH_MS) return;
    this.agentRelaunchedAt.set(id, now);
    void (async () => {
      const spec = await requireSpec(ctx, id);
      const p = ctx.paths.sandbox(id);
      if (!(await isMounted(p.rootfs)) || !(await lstat(p.agentDir).catch(() => undefined))) return; // booted without the agent's mount
      await launchAgent(ctx, p, envList(baseEnv(spec.hostname), {}));
    })().catch(() => undefined);
  }

  private async processFor(ctx: LocalContext, id: string, args: string[], opts: { cwd?: string; env?: Record<string, string> }) {
    // Only the hostname is used here; it changes through setHostname, which drops the cache.
    const spec = this.hostnames.get(id) ?? (await requireSpec(ctx, id));
    this.hostnames.set(id, { hostname: spec.hostname });
    const start = await this.startOf(ctx, id);
    const cwd = opts.cwd ?? WORKSPACE;
    if (cwd !== '/') sandboxPathComponents(cwd); // absolute, no '..'
    checkExecEnv(opts.env);
    return processSpec(args, envList(baseEnv(spec.hostname), start.env, opts.env), cwd);
  }

  /** exec with argv instead of a shell command (used internally, e.g. for git clone). */
  private async run(ctx: LocalContext, id: string, args: string[], opts: Omit<ExecOptions, 'stdin'> & { stdin?: Uint8Array | string }): Promise<ExecResult> {
    await this.requireRunning(ctx, id);
    const proc = await this.processFor(ctx, id, args, opts);
    return runExec(this.execTarget(ctx, id), proc, opts);
  }

  async exec(id: string, command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const ctx = await this.context();
    return this.run(ctx, id, ['/bin/sh', '-c', command], opts);
  }

  async execStream(
    id: string,
    command: string,
    handlers: ExecStreamHandlers,
    opts: Omit<ExecOptions, 'stdin' | 'maxOutputBytes'> = {},
  ): Promise<ExecProcess> {
    const ctx = await this.context();
    await this.requireRunning(ctx, id);
    const proc = await this.processFor(ctx, id, ['/bin/sh', '-c', command], opts);
    return streamExec(this.execTarget(ctx, id), proc, handlers, opts);
  }

  async terminalCommand(id: string, opts: TerminalOptions): Promise<TerminalCommand> {
    const ctx = await this.context();
    await this.requireRunning(ctx, id);
    const proc = await this.processFor(ctx, id, LOGIN_SHELL, { cwd: opts.cwd, env: { TERM: 'xterm-256color', ...opts.env } });
    return terminalCommand(this.execTarget(ctx, id), proc, opts);
  }

  private async fileRoots(ctx: LocalContext, id: string) {
    const p = ctx.paths.sandbox(id);
    // Never write into the bare mount point dir: that would silently miss the sandbox.
    if (!(await isMounted(p.rootfs))) throw new ProviderError(`the root filesystem of sandbox ${id} is not mounted on the host; restart it`);
    const overlay: FileRoot = { hostRoot: p.rootfs, owner: SANDBOX_UID_BASE };
    const volumes = await mountedVolumes(p);
    return (parts: string[]) => locate(parts, overlay, volumes, 0);
  }

  private async writeChecked(ctx: LocalContext, id: string, files: ReturnType<typeof checkFiles>): Promise<void> {
    if (files.length === 0) return;
    const where = await this.fileRoots(ctx, id);
    for (const { file, parts } of files) {
      const { root, rest } = where(parts);
      await writeFileInRoot(root, rest, file.content, file.mode ?? 0o644, file.path);
    }
  }

  /**
   * Gives a sandbox a new hostname (kernel, /etc/hostname, /etc/hosts, $HOSTNAME); used by
   * the server's warm pool when it hands a prepared sandbox to its caller. Not part of the
   * Provider contract: other providers simply get no pool.
   */
  async setHostname(id: string, hostname: string): Promise<void> {
    const ctx = await this.context();
    assertValidId(id);
    this.hostnames.delete(id);
    try {
      await this.serialized(id, () =>
        renameSandbox(ctx, id, hostname, (files) => this.writeChecked(ctx, id, checkFiles(files.map((f) => ({ ...f, mode: 0o644 })))), this.aliveState(id)),
      );
    } finally {
      this.hostnames.delete(id); // an exec during the rename may have cached the old name
    }
  }

  async writeFiles(id: string, files: FileToWrite[]): Promise<void> {
    const ctx = await this.context();
    const checked = checkFiles(files);
    await this.requireRunning(ctx, id);
    await this.writeChecked(ctx, id, checked);
  }

  async readFile(id: string, path: string): Promise<Buffer> {
    const ctx = await this.context();
    const parts = sandboxPathComponents(path);
    await this.requireRunning(ctx, id);
    const { root, rest } = (await this.fileRoots(ctx, id))(parts);
    return readFileInRoot(root, rest, path);
  }
}
