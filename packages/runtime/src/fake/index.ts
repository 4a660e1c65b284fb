/**
 * The `fake` provider: FOR TESTS AND DEVELOPMENT ONLY. IT ISOLATES NOTHING. NEVER RUN
 * UNTRUSTED CODE WITH IT.
 *
 * A sandbox is a directory tree on this host (`<stateDir>/sandboxes/<id>/root`, see tree.ts)
 * and its commands are ordinary child processes of the server, running as the server's own
 * user with the tree's `workspace/` as working directory. It exists so that the server, the
 * SDK and the CLI can be tested without root, namespaces or base images, and to prove that
 * the Provider contract is not shaped by the `local` provider: it runs the same conformance
 * suite, with a written skip list (packages/runtime/test/fake.conformance.test.ts).
 *
 * What is real: exec and streaming exec (`/bin/sh -c`, binary-safe, stdin, output caps, a
 * timeout or abort that kills the whole session), the sandbox's environment (and nothing of
 * the server's), files written and read with the local provider's safe-path rules, stop that
 * ends every process of the sandbox, repo clones with the host's git, terminals (a login shell
 * in the caller's PTY), volumes as links to their host directories.
 *
 * What it is NOT, and says so: no isolation of any kind; commands see the host's filesystem
 * (`/workspace` in a command is the host's /workspace, `pwd` prints the tree's path) and run
 * as the server's user, not root; `hostname` is the host's (only $HOSTNAME is the sandbox's);
 * no network of its own (no address, so no previews); resources are checked but not enforced
 * (no `limits` capability); read-only and nested volumes are refused with
 * UnsupportedCapabilityError. Sandboxes live in memory: a new provider on the same state
 * directory starts empty and removes what an earlier one left.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
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
  Provider,
  StartSpec,
  TerminalCommand,
  TerminalOptions,
  VolumeMount,
} from '../provider/types';
import { SandboxMissingError, SandboxNotRunningError, UnknownBaseError } from '../provider/errors';
import { assertResources, assertValidHostname, assertValidId } from '../shared/sandbox-input';
import { checkEnvNames, checkExecEnv } from '../shared/sandbox-input';
import { collectExec, streamRunning } from './exec-io';
import { KeyedQueue } from '../shared/keyed-queue';
import { assertRepoUrl, cloneRepo } from '../shared/repo';
import { checkFiles, locate, readFileInRoot, sandboxPathComponents, writeFileInRoot, type FileRoot } from '../shared/safe-path';
import { acquireDriverLock } from '../local/driver-lock';
import { DEFAULT_PATH, WORKSPACE } from '../local/oci-config';
import { endMarkedProcesses, MARKER, spawnCommand } from './processes';
import { fakeTerminalCommand } from './terminal';
import { FakeTree, hostCwd, SEED_DIRS } from './tree';
import { checkFakeVolumes, linkVolumes, unlinkVolumes } from './volumes';

export interface FakeProviderOptions {
  /** Where the sandboxes' trees live (one provider per dir; emptied on first use). */
  stateDir: string;
  /** Base names it accepts; default `['host']`. None of them is an image: every base is this host. */
  bases?: string[];
  /** How long `stop` waits after SIGTERM before SIGKILL; default 1 s. */
  stopGraceMs?: number;
}

const CAPABILITIES: ReadonlySet<Capability> = new Set<Capability>(['exec', 'execStream', 'files', 'volumes', 'repo', 'stopStart', 'terminal']);

interface FakeSandbox {
  spec: CreateSpec;
  running: boolean;
  /** What a bare start reuses (as the local provider's start.json). */
  env: Record<string, string>;
  volumes: VolumeMount[];
  /** Volumes linked by the current run (the ones of the start that booted it). */
  linked: VolumeMount[];
}

export class FakeProvider implements Provider {
  readonly name = 'fake';
  readonly capabilities = CAPABILITIES;
  private readonly tree: FakeTree;
  private readonly bases: string[];
  private readonly stopGraceMs: number;
  private readonly sandboxes = new Map<string, FakeSandbox>();
  private readonly queues = new KeyedQueue();
  private ready?: Promise<void>;

  constructor(opts: FakeProviderOptions) {
    this.tree = new FakeTree(opts.stateDir);
    this.bases = opts.bases ?? ['host'];
    this.stopGraceMs = opts.stopGraceMs ?? 1000;
  }

  /** First use: take the state dir and remove what an earlier provider left there. */
  private init(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(this.tree.stateDir, { recursive: true, mode: 0o700 });
      await acquireDriverLock(this.tree.lock, this.tree.stateDir);
      // Processes an earlier provider left running still carry their sandbox's marker.
      for (const id of await readdir(this.tree.sandboxes).catch(() => [] as string[])) {
        await endMarkedProcesses(this.tree.dir(id), 0);
      }
      await rm(this.tree.sandboxes, { recursive: true, force: true });
      await mkdir(this.tree.sandboxes, { mode: 0o700 });
    })().catch((err) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  async probe(): Promise<{ available: boolean; reason?: string }> {
    try {
      await this.init();
    } catch (err) {
      return { available: false, reason: (err as Error).message };
    }
    return { available: true };
  }

  async listBases(): Promise<BaseInfo[]> {
    return this.bases.map((name) => ({
      name,
      description: 'fake provider: no image, commands run on this host in a per-sandbox directory (no isolation; for tests only)',
      ready: true,
    }));
  }

  async prepareBase(base: string): Promise<void> {
    if (!this.bases.includes(base)) throw new UnknownBaseError(base, this.bases);
  }

  async create(spec: CreateSpec): Promise<void> {
    await this.init();
    assertValidId(spec?.id);
    assertValidHostname(spec.hostname);
    assertResources(spec);
    if (!this.bases.includes(spec.base)) throw new UnknownBaseError(spec.base, this.bases);
    await this.queues.run(spec.id, async () => {
      if (this.sandboxes.has(spec.id)) return;
      const root = this.tree.root(spec.id);
      for (const dir of SEED_DIRS) await mkdir(join(root, dir), { recursive: true, mode: 0o755 });
      this.sandboxes.set(spec.id, { spec: { ...spec }, running: false, env: {}, volumes: [], linked: [] });
    });
  }

  async start(id: string, spec?: StartSpec): Promise<void> {
    await this.init();
    assertValidId(id);
    if (spec?.repo !== undefined) assertRepoUrl(spec.repo);
    if (spec?.env) checkEnvNames(spec.env);
    const files = checkFiles(spec?.files ?? []);
    const volumes = spec?.volumes !== undefined ? checkFakeVolumes(spec.volumes) : undefined;
    await this.queues.run(id, async () => {
      const sb = this.require(id);
      if (spec?.env !== undefined) sb.env = { ...spec.env };
      if (volumes !== undefined) sb.volumes = volumes;
      const booting = !sb.running;
      if (booting) {
        // Volumes given to a running sandbox take effect at its next start, as with mounts.
        sb.linked = sb.volumes;
        await linkVolumes(this.tree.root(id), sb.linked).catch(async (err: unknown) => {
          await unlinkVolumes(this.tree.root(id), sb.linked);
          sb.linked = [];
          throw err;
        });
        sb.running = true;
      }
      try {
        // Clone first, so files given with the start (e.g. a .env) can land inside the checkout.
        if (spec?.repo) {
          const workspace = join(this.tree.root(id), WORKSPACE);
          await cloneRepo(spec.repo, (argv, env, timeoutMs) => this.run(sb, argv, { env, timeoutMs, cwd: '/' }), workspace);
        }
        await this.writeChecked(sb, files);
      } catch (err) {
        // A start that booted either fully succeeds or leaves the sandbox stopped.
        if (booting) await this.halt(sb);
        throw err;
      }
    });
  }

  async stop(id: string): Promise<void> {
    await this.init();
    assertValidId(id);
    await this.queues.run(id, () => this.halt(this.require(id)));
  }

  async delete(id: string): Promise<void> {
    await this.init();
    assertValidId(id);
    await this.queues.run(id, async () => {
      const sb = this.sandboxes.get(id);
      if (sb) await this.halt(sb);
      // fs.rm never follows symbolic links: volume links and the sandbox's own links go, their targets stay.
      await rm(this.tree.dir(id), { recursive: true, force: true });
      this.sandboxes.delete(id);
    });
  }

  async list(): Promise<ObservedSandbox[]> {
    await this.init();
    return [...this.sandboxes.values()].map((sb) => ({ id: sb.spec.id, state: sb.running ? 'running' : 'stopped' }));
  }

  async observe(id: string): Promise<ObservedSandbox> {
    await this.init();
    assertValidId(id);
    const sb = this.sandboxes.get(id);
    return { id, state: !sb ? 'missing' : sb.running ? 'running' : 'stopped' };
  }

  async exec(id: string, command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    await this.init();
    return this.run(this.requireRunning(id), ['/bin/sh', '-c', command], opts);
  }

  async execStream(id: string, command: string, handlers: ExecStreamHandlers, opts: Omit<ExecOptions, 'stdin' | 'maxOutputBytes'> = {}): Promise<ExecProcess> {
    await this.init();
    const sb = this.requireRunning(id);
    return streamRunning(spawnCommand(await this.spawnSpec(sb, ['/bin/sh', '-c', command], opts)), handlers, opts);
  }

  async terminalCommand(id: string, opts: TerminalOptions): Promise<TerminalCommand> {
    await this.init();
    const sb = this.requireRunning(id);
    const spawn = await this.spawnSpec(sb, [], { cwd: opts.cwd, env: { TERM: 'xterm-256color', ...opts.env } });
    return fakeTerminalCommand({ ttyDir: this.tree.ttyDir(id), hostCwd: spawn.hostCwd, sandboxCwd: spawn.sandboxCwd, env: spawn.env, cols: opts.cols, rows: opts.rows });
  }

  async writeFiles(id: string, files: FileToWrite[]): Promise<void> {
    await this.init();
    const checked = checkFiles(files);
    await this.writeChecked(this.requireRunning(id), checked);
  }

  async readFile(id: string, path: string): Promise<Buffer> {
    await this.init();
    const parts = sandboxPathComponents(path);
    const { root, rest } = this.fileRoot(this.requireRunning(id), parts);
    return readFileInRoot(root, rest, path);
  }

  // --- internals ------------------------------------------------------------------------

  private require(id: string): FakeSandbox {
    const sb = this.sandboxes.get(id);
    if (!sb) throw new SandboxMissingError(id);
    return sb;
  }

  private requireRunning(id: string): FakeSandbox {
    assertValidId(id);
    const sb = this.require(id);
    if (!sb.running) throw new SandboxNotRunningError(id);
    return sb;
  }

  /** Ends every process of the sandbox and unlinks its volumes: it is stopped. */
  private async halt(sb: FakeSandbox): Promise<void> {
    sb.running = false;
    await endMarkedProcesses(this.tree.dir(sb.spec.id), this.stopGraceMs);
    await unlinkVolumes(this.tree.root(sb.spec.id), sb.linked);
    sb.linked = [];
  }

  /** The environment of every process: a sandbox-like base, the sandbox's env, the command's, and the marker. */
  private async spawnSpec(sb: FakeSandbox, argv: string[], opts: { cwd?: string; env?: Record<string, string> }) {
    checkExecEnv(opts.env);
    const root = this.tree.root(sb.spec.id);
    const sandboxCwd = opts.cwd ?? WORKSPACE;
    const env = {
      PATH: DEFAULT_PATH,
      HOME: join(root, 'root'),
      TMPDIR: join(root, 'tmp'),
      TERM: 'xterm',
      LANG: 'C.UTF-8',
      HOSTNAME: sb.spec.hostname,
      ...sb.env,
      ...opts.env,
      [MARKER]: this.tree.dir(sb.spec.id),
    };
    const cwd = await hostCwd(root, sandboxCwd, sb.linked.map((v) => v.hostPath));
    return { argv, hostCwd: cwd, sandboxCwd, env, spawnDir: root };
  }

  private async run(sb: FakeSandbox, argv: string[], opts: ExecOptions): Promise<ExecResult> {
    return collectExec(spawnCommand(await this.spawnSpec(sb, argv, opts)), opts);
  }

  private fileRoot(sb: FakeSandbox, parts: string[]) {
    // Files belong to the server's user (owner undefined: no chown).
    const tree: FileRoot = { hostRoot: this.tree.root(sb.spec.id), owner: undefined };
    return locate(parts, tree, sb.linked, undefined);
  }

  private async writeChecked(sb: FakeSandbox, files: ReturnType<typeof checkFiles>): Promise<void> {
    for (const { file, parts } of files) {
      const { root, rest } = this.fileRoot(sb, parts);
      await writeFileInRoot(root, rest, file.content, file.mode ?? 0o644, file.path);
    }
  }
}
