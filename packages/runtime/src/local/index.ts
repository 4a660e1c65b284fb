/**
 * The `local` provider: sandboxes as OCI containers on this host (crun, or runc),
 * each with its own user/pid/mount/uts/ipc/cgroup/network namespaces, an overlay
 * root over a cached Debian base, cgroup limits, seccomp and catatonit as PID 1.
 *
 * This class only sequences; the work lives in lifecycle.ts (create/start/stop/
 * delete), exec.ts, safe-path.ts (files), reconcile.ts (what exists, crash
 * recovery), repo.ts and the network/ and images/ modules.
 */
import { readFileSync } from 'node:fs';
import { lstat, mkdir, readFile } from 'node:fs/promises';
import type {
  BaseInfo,
  Capability,
  CreateSpec,
  ExecOptions,
  ExecProcess,
  ExecResult,
  ExecStreamHandlers,
  FileToWrite,
  IsolationLevel,
  IsolationSupport,
  ObservedSandbox,
  ProgressEvent,
  Provider,
  StartSpec,
  TerminalCommand,
  TerminalOptions,
} from '../provider/types';
import { HostNotReadyError, ProviderError, SandboxMissingError, SandboxNotRunningError, UnsupportedCapabilityError } from '../provider/errors';
import { ISOLATION_LEVELS } from '../provider/types';
import { isMounted } from './overlay';
import { cgroupLayout, sandboxPids } from './cgroups';
import { runtimeFor, type LocalContext } from './context';
import { acquireDriverLock, processStartTime } from './driver-lock';
import { runExec, streamExec, type ExecTarget } from './exec';
import { checkHost, describeProblems } from './host-check';
import { BaseImages } from './images/index';
import {
  assertGvisorCanStart,
  bootSandbox,
  checkFiles,
  createSandbox,
  destroySandbox,
  requireSpec,
  saveStartSpec,
  teardown,
} from './lifecycle';
import { SandboxNetworks } from './network/index';
import { baseEnv, envList, processSpec, SANDBOX_UID_BASE, WORKSPACE } from './oci-config';
import { findBinary, OciRuntime, pickRuntime, type ContainerState, type SandboxRuntime } from './oci-runtime';
import { GvisorRuntime, internalPidFile } from './gvisor/runsc';
import { GVISOR_PLATFORMS, probeGvisor, type GvisorPlatform, type GvisorPlatformChoice, type GvisorProbe } from './gvisor/platform';
import { assertValidId, containerIdOf, StatePaths } from './paths';
import { observeAll, observeOne, reconcile } from './reconcile';
import { assertRepoUrl, cloneRepo } from './repo';
import { locate, readFileInRoot, sandboxPathComponents, writeFileInRoot, type FileRoot } from './safe-path';
import { mountedVolumes, readSpec, readStart, type SavedStart } from './store';
import { LOGIN_SHELL, terminalCommand } from './terminal';
import { launchAgent } from './agent/index';
import { renameSandbox } from './hostname';

const AGENT_RELAUNCH_MS = 5000;

/**
 * Whether a remembered init is still that very process, alive: same kernel start time (pid
 * reuse changes it) and not a zombie (a killed init stays in /proc until it is reaped).
 */
function stillRunning(known: { pid: number; startTime: string }): boolean {
  try {
    const stat = readFileSync(`/proc/${known.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] === known.startTime && fields[0] !== 'Z' && fields[0] !== 'X';
  } catch {
    return false;
  }
}
/** POCKETENV_EXEC_AGENT=0 sends every exec through the OCI runtime's exec (for comparison and debugging). */
const AGENT_ENABLED = process.env.POCKETENV_EXEC_AGENT !== '0';

export interface LocalProviderOptions {
  /** Where this provider keeps its sandboxes (one provider process per dir). */
  stateDir: string;
  /** Machine-wide base image cache; default $POCKETENV_IMAGE_DIR or /var/cache/pocketenv/images. */
  imageDir?: string;
  /** Force an OCI runtime; default crun, runc when crun is not installed. */
  ociRuntime?: 'crun' | 'runc';
  /** gVisor platform for new `gvisor` sandboxes; default $POCKETENV_GVISOR_PLATFORM or `auto` (see gvisor/platform.ts). */
  gvisorPlatform?: GvisorPlatformChoice;
}

/** Reads a platform choice (`auto`, `ptrace`, `kvm`, `systrap`); `source` names where it came from in the error. */
export function parseGvisorPlatform(value: string, source: string): GvisorPlatformChoice {
  if (value === 'auto' || (GVISOR_PLATFORMS as readonly string[]).includes(value)) return value as GvisorPlatformChoice;
  throw new Error(`${source} must be auto, ${GVISOR_PLATFORMS.join(', ')}; got ${JSON.stringify(value)}`);
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
]);

export class LocalProvider implements Provider {
  readonly name = 'local';
  readonly capabilities = CAPABILITIES;
  readonly stateDir: string;
  readonly imageDir: string;
  private readonly paths: StatePaths;
  private readonly images: BaseImages;
  private readonly preferredRuntime?: 'crun' | 'runc';
  private readonly gvisorPlatform: GvisorPlatformChoice;
  private gvisorProbe?: Promise<GvisorProbe>;
  private ctxPromise?: Promise<LocalContext>;
  /** Lifecycle operations on one id run one at a time. */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** env/volumes per running sandbox, so exec does not re-read start.json. */
  private readonly startCache = new Map<string, SavedStart>();
  /** Hostname per sandbox seen by exec (spec.json read once, not per exec). */
  private readonly hostnames = new Map<string, { hostname: string }>();
  /** When the exec agent of a sandbox was last (re)started on demand. */
  private readonly agentRelaunchedAt = new Map<string, number>();
  /** Init process of sandboxes seen running (see requireRunning). */
  private readonly runningInits = new Map<string, { pid: number; startTime: string }>();
  /** The runtime of each sandbox seen (fixed by its spec for its whole life). */
  private readonly sandboxRuntimes = new Map<string, SandboxRuntime>();

  constructor(opts: LocalProviderOptions) {
    this.stateDir = opts.stateDir;
    this.imageDir = opts.imageDir ?? process.env.POCKETENV_IMAGE_DIR ?? '/var/cache/pocketenv/images';
    this.paths = new StatePaths(this.stateDir);
    this.images = new BaseImages({ imageDir: this.imageDir });
    this.preferredRuntime = opts.ociRuntime;
    this.gvisorPlatform = opts.gvisorPlatform ?? parseGvisorPlatform(process.env.POCKETENV_GVISOR_PLATFORM || 'auto', 'POCKETENV_GVISOR_PLATFORM');
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
      const runsc = findBinary('runsc');
      const gvisorRuntimes = new Map<GvisorPlatform, GvisorRuntime>();
      const ctx: LocalContext = {
        paths: this.paths,
        runtime: new OciRuntime({ ...runtime, root: this.paths.ociRoot, cgroupMode: cgroupLayout().mode }),
        gvisor: (platform) => {
          if (!runsc) return undefined;
          let r = gvisorRuntimes.get(platform);
          if (!r) gvisorRuntimes.set(platform, (r = new GvisorRuntime({ binary: runsc, root: this.paths.gvisorRoot, platform })));
          return r;
        },
        images: this.images,
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
    const prev = this.queues.get(id) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(op);
    this.queues.set(id, next);
    void next.finally(() => {
      if (this.queues.get(id) === next) this.queues.delete(id);
    }).catch(() => undefined);
    return next;
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

  /** `standard` whenever the provider is usable; `gvisor` when runsc starts a sandbox here (probed once). */
  async isolationLevels(): Promise<IsolationSupport[]> {
    const standard = await this.probe();
    const gvisor = await this.probeGvisorOnce();
    return [
      { level: 'standard', available: standard.available, detail: standard.available ? `${await this.runtimeName()} on the host kernel` : standard.reason ?? 'unavailable' },
      { level: 'gvisor', available: gvisor.available, detail: gvisor.detail },
    ];
  }

  /** A success is kept for the provider's life; a failure is asked again next time (runsc may be installed meanwhile). */
  private probeGvisorOnce(): Promise<GvisorProbe> {
    const probe = (this.gvisorProbe ??= mkdir(this.paths.gvisorProbeRoot, { recursive: true, mode: 0o700 }).then(() =>
      probeGvisor({ choice: this.gvisorPlatform, smokeRoot: this.paths.gvisorProbeRoot }),
    ));
    void probe.then(
      (r) => {
        if (!r.available && this.gvisorProbe === probe) this.gvisorProbe = undefined;
      },
      () => {
        if (this.gvisorProbe === probe) this.gvisorProbe = undefined;
      },
    );
    return probe;
  }

  listBases(): Promise<BaseInfo[]> {
    return this.images.list();
  }

  async prepareBase(base: string, onProgress?: (e: ProgressEvent) => void): Promise<void> {
    await this.images.ensure(base, onProgress);
  }

  async create(spec: CreateSpec): Promise<void> {
    const ctx = await this.context();
    assertValidId(spec?.id);
    const isolation: IsolationLevel = spec.isolation ?? 'standard';
    if (!ISOLATION_LEVELS.includes(isolation)) {
      throw new ProviderError(`unknown isolation level ${JSON.stringify(isolation)}: use one of ${ISOLATION_LEVELS.join(', ')}`);
    }
    let platform: GvisorPlatform | undefined;
    if (isolation === 'gvisor') {
      const gvisor = await this.probeGvisorOnce();
      if (!gvisor.available) throw new UnsupportedCapabilityError('local', 'gVisor isolation on this host', gvisor.detail);
      platform = gvisor.platform;
    }
    await this.serialized(spec.id, () => createSandbox(ctx, spec, platform));
  }

  /** The runtime a sandbox was created for (its spec says; remembered after the first read). */
  private async runtimeOf(ctx: LocalContext, id: string): Promise<SandboxRuntime> {
    const known = this.sandboxRuntimes.get(id);
    if (known) return known;
    const spec = await readSpec(ctx.paths.sandbox(id));
    if (!spec) return ctx.runtime; // nothing saved: only a standard leftover can exist (see teardown)
    const runtime = runtimeFor(ctx, id, spec);
    this.sandboxRuntimes.set(id, runtime);
    return runtime;
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
      const runtime = runtimeFor(ctx, id, saved);
      if (runtime instanceof GvisorRuntime && spec?.volumes !== undefined) assertGvisorCanStart(id, { env: {}, volumes: spec.volumes });
      const start = await saveStartSpec(ctx, id, spec);
      this.startCache.set(id, start);
      const state = alive ?? (await runtime.state(containerIdOf(id)));
      const booting = state?.status !== 'running';
      if (alive) this.runningInits.set(id, { pid: alive.pid, startTime: processStartTime(alive.pid)! });
      if (booting) {
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
      const spec = await requireSpec(ctx, id).catch(() => undefined);
      const state = spec ? await runtimeFor(ctx, id, spec).state(containerIdOf(id)) : await ctx.runtime.state(containerIdOf(id));
      if (!spec && !state) throw new SandboxMissingError(id);
      this.runningInits.delete(id);
      await teardown(ctx, id);
    });
  }

  async delete(id: string): Promise<void> {
    const ctx = await this.context();
    assertValidId(id);
    await this.serialized(id, async () => {
      this.startCache.delete(id);
      this.hostnames.delete(id);
      this.runningInits.delete(id);
      await destroySandbox(ctx, id);
      this.sandboxRuntimes.delete(id);
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
    await requireSpec(ctx, id); // SandboxMissingError when there is nothing at all
    const state = await (await this.runtimeOf(ctx, id)).state(containerIdOf(id));
    if (state?.status === 'running') {
      const startTime = processStartTime(state.pid);
      if (startTime) this.runningInits.set(id, { pid: state.pid, startTime });
      return;
    }
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

  private async execTarget(ctx: LocalContext, id: string): Promise<ExecTarget> {
    const p = ctx.paths.sandbox(id);
    const runtime = await this.runtimeOf(ctx, id);
    const cid = containerIdOf(id);
    const target: ExecTarget = {
      argv: (processFile, pidFile) => runtime.execArgv(cid, processFile, pidFile),
      pids: () => sandboxPids(id),
      execDir: p.execDir,
      agentSocket: AGENT_ENABLED ? p.agentSocket : undefined,
      onAgentMissing: () => this.relaunchAgent(ctx, id),
    };
    if (runtime instanceof GvisorRuntime) {
      // The command runs in gVisor's kernel: its process group is signalled from inside.
      target.killRuntimeExec = async (leader, pidFile) => {
        const inside = Number((await readFile(internalPidFile(pidFile), 'utf8').catch(() => '')).trim());
        await runtime.signalGroupInside(cid, inside, 'KILL');
        try {
          process.kill(-leader, 'SIGKILL');
        } catch {
          /* runsc exec already ended */
        }
      };
      // The pid file names the runsc process holding the terminal (see terminal.ts).
      target.terminalIsCallerPty = true;
      target.ownsTerminalPid = async (pid, pidFile) => {
        const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
        return argv[0] === runtime.binary && argv.includes(pidFile);
      };
    }
    return target;
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
      await launchAgent(await this.runtimeOf(ctx, id), p, envList(baseEnv(spec.hostname), {}));
    })().catch(() => undefined);
  }

  private async processFor(ctx: LocalContext, id: string, args: string[], opts: { cwd?: string; env?: Record<string, string> }) {
    // Only the hostname is used here; it changes through setHostname, which drops the cache.
    const spec = this.hostnames.get(id) ?? (await requireSpec(ctx, id));
    this.hostnames.set(id, { hostname: spec.hostname });
    const start = await this.startOf(ctx, id);
    const cwd = opts.cwd ?? WORKSPACE;
    if (cwd !== '/') sandboxPathComponents(cwd); // absolute, no '..'
    for (const [key, value] of Object.entries(opts.env ?? {})) {
      if (!key || key.includes('=') || key.includes('\0') || String(value).includes('\0')) {
        throw new ProviderError(`invalid environment variable ${JSON.stringify(key)}`);
      }
    }
    return processSpec(args, envList(baseEnv(spec.hostname), start.env, opts.env), cwd);
  }

  /** exec with argv instead of a shell command (used internally, e.g. for git clone). */
  private async run(ctx: LocalContext, id: string, args: string[], opts: Omit<ExecOptions, 'stdin'> & { stdin?: Uint8Array | string }): Promise<ExecResult> {
    await this.requireRunning(ctx, id);
    const proc = await this.processFor(ctx, id, args, opts);
    return runExec(await this.execTarget(ctx, id), proc, opts);
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
    return streamExec(await this.execTarget(ctx, id), proc, handlers, opts);
  }

  async terminalCommand(id: string, opts: TerminalOptions): Promise<TerminalCommand> {
    const ctx = await this.context();
    await this.requireRunning(ctx, id);
    const proc = await this.processFor(ctx, id, LOGIN_SHELL, { cwd: opts.cwd, env: { TERM: 'xterm-256color', ...opts.env } });
    return terminalCommand(await this.execTarget(ctx, id), proc, opts);
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
    if ((await this.runtimeOf(ctx, id)) instanceof GvisorRuntime) {
      // Setting the hostname of a running gVisor kernel needs CAP_SYS_ADMIN inside it; the warm pool (the only caller) holds standard sandboxes only.
      throw new UnsupportedCapabilityError('local', 'renaming a gVisor sandbox', 'its hostname is fixed at create; the warm pool serves standard sandboxes only');
    }
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
