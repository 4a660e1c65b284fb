/**
 * The sandbox lifecycle: records what is wanted, then asks the provider, then records what
 * happened. Every transition is written to the database BEFORE the provider is called, so
 * a crash at any point leaves a record that reconciliation (./reconcile.ts) can settle, and
 * every provider failure is stored with its reason (status ERROR + `error`).
 *
 * Lifecycle decision: `create` provisions AND starts, and answers with a RUNNING sandbox
 * (like the hosted Cloudflare runtime; the JS SDK's waitUntilRunning and the CLI's
 * `create --ssh` expect a sandbox that comes up without a start call). `startSandbox` on a
 * RUNNING sandbox is a no-op, so the Gleam seed's create → start → exec works unchanged.
 *
 * Transitions of one sandbox are serialised by a per-id mutex; exec is not (commands may run
 * concurrently) but it is counted so the idle reaper never stops a sandbox mid-command.
 */
import type { ExecResult, IsolationLevel, Provider, Resources } from '@pocketenv/runtime';
import type { SandboxCreateSandbox } from '@pocketenv/lexicons';
import { SandboxMissingError, SandboxNotRunningError, ProviderError, PathEscapeError } from '@pocketenv/runtime';
import type { Actor, SandboxRecord } from '../db/schema';
import { isUniqueViolation } from '../db/errors';
import { newId, nowIso } from '../ids';
import type { Logger } from '../log';
import { ConflictError, InvalidInputError, InvalidStateError, ProviderFailureError, SandboxNotFoundError, describeFailure } from '../errors';
import { KeyedMutex } from './keyed-mutex';
import { generateName, validateName } from './names';
import type { ProviderRegistry } from './providers';
import type { SandboxRepository } from './repository';
import { DEFAULT_RESOURCES, resolveResources } from './resources';
import { collectExecEnv, collectStartSpec, type LifecycleHook } from './hooks';
import { DEFAULT_ISOLATION, IsolationPolicy } from './isolation';

/** The sandbox's own fields of createSandbox's input; variables and secrets arrive as `attach`. */
const CREATE_FIELDS = ['base', 'name', 'description', 'provider', 'topics', 'repo', 'vcpus', 'memory', 'disk', 'readme', 'keepAlive', 'isolation'] as const;
type CreateFields = Pick<SandboxCreateSandbox.InputSchema, (typeof CREATE_FIELDS)[number]>;

export type CreateRequest = CreateFields & {
  /** Stores what is attached at creation (variables, secrets) once the record exists, before the first start. */
  attach?(record: SandboxRecord): Promise<void>;
};

/** Only the sandbox's own fields of a createSandbox input (not its secrets or hosted-provider tokens). */
export function createFieldsOf(input: SandboxCreateSandbox.InputSchema): CreateFields {
  return Object.fromEntries(CREATE_FIELDS.map((k) => [k, input[k]])) as CreateFields;
}

export interface StartRequest {
  repo?: string;
  keepAlive?: boolean;
}

export interface ExecRequest {
  command: string;
  timeoutMs?: number;
  cwd?: string;
  env?: Record<string, string>;
}

/** Default exec timeout when the caller gives none: long enough for installs, short enough to not hang forever. */
export const DEFAULT_EXEC_TIMEOUT_MS = 10 * 60_000;

/** Admission control (per-actor quotas, src/limits): each check runs together with the write it guards. */
export interface Admission {
  create<T>(owner: Actor, insert: () => Promise<T>): Promise<T>;
  start<T>(record: SandboxRecord, markStarting: () => Promise<T>): Promise<T>;
  /** Takes an exec slot of the record's owner (throws when none is free); returns its release. */
  exec(record: SandboxRecord): () => void;
}

/** Prepared, already running sandboxes a create can take instead of booting one (src/pool). Standard isolation only. */
export interface WarmPool {
  /** A prepared sandbox matching exactly, now reserved for the caller; undefined when none is ready. */
  take(provider: string, base: string, resources: Resources): PooledSandbox | undefined;
}

export interface PooledSandbox {
  /** Its provider id, which becomes the record's id. */
  readonly id: string;
  /** Makes it the record's: hostname = record name. */
  bind(record: SandboxRecord): Promise<void>;
  /** Gives it up (the create failed before binding): it is deleted. */
  discard(): void;
  /** The create is over (either way): the pool may use the CPU to refill again. */
  done(): void;
}

export class Orchestrator {
  private readonly locks = new KeyedMutex();
  private admission?: Admission;
  private pool?: WarmPool;
  private readonly runningExecs = new Map<string, number>();
  private readonly hooks: LifecycleHook[] = [];

  constructor(
    private readonly sandboxes: SandboxRepository,
    private readonly providers: ProviderRegistry,
    private readonly log: Logger,
    private readonly isolation: IsolationPolicy = new IsolationPolicy(DEFAULT_ISOLATION),
  ) {}

  /** Installs quota checks for create, start and exec. */
  setAdmission(admission: Admission): void {
    this.admission = admission;
  }

  /** Installs the warm pool creates take prepared sandboxes from. */
  setPool(pool: WarmPool | undefined): void {
    this.pool = pool;
  }

  /** Registers an attachment's part in the lifecycle (see ./hooks.ts). */
  use(hook: LifecycleHook): void {
    this.hooks.push(hook);
  }

  /** The environment every exec and terminal of this sandbox gets (variables, secrets…). */
  execEnv(record: SandboxRecord): Promise<Record<string, string>> {
    return collectExecEnv(this.hooks, record);
  }

  /** Starts the provider's sandbox with everything attached to it, then lets hooks act on the running sandbox. */
  private async startWithAttachments(provider: Provider, record: SandboxRecord, repo?: string, pooled = false): Promise<void> {
    const spec = await collectStartSpec(this.hooks, record, repo);
    // A pooled sandbox is already running; volumes are mounted at boot, so it reboots for them.
    if (pooled && spec.volumes?.length) await provider.stop(record.id);
    await provider.start(record.id, spec);
    for (const hook of this.hooks) await hook.afterStart?.(record);
  }

  // --- create ---------------------------------------------------------------------------

  async create(owner: Actor, req: CreateRequest): Promise<SandboxRecord> {
    const provider = this.providers.resolve(req.provider);
    const base = await this.providers.resolveBase(provider, req.base);
    const resources = resolveResources(req);
    if (req.repo !== undefined) validateRepo(req.repo);
    const isolation = await this.isolation.resolve(provider, req.isolation);
    let pooled: PooledSandbox | undefined;
    const insert = () => {
      // The pool holds standard sandboxes: a gVisor create always boots its own.
      pooled = isolation === 'standard' ? this.pool?.take(provider.name, base, resources) : undefined;
      return this.insertRecord(owner, req, provider.name, base, resources, isolation, pooled?.id);
    };
    try {
      return await this.createRecorded(owner, req, provider, insert, () => pooled);
    } finally {
      pooled?.done();
    }
  }

  private async createRecorded(
    owner: Actor,
    req: CreateRequest,
    provider: Provider,
    insert: () => Promise<SandboxRecord>,
    pooledOf: () => PooledSandbox | undefined,
  ): Promise<SandboxRecord> {
    let record: SandboxRecord;
    try {
      record = this.admission ? await this.admission.create(owner, insert) : await insert();
    } catch (err) {
      pooledOf()?.discard();
      throw err;
    }
    const pooled = pooledOf();
    if (req.attach) {
      // Nothing of the caller's exists on the provider yet: a failure leaves no sandbox behind.
      await req.attach(record).catch(async (err: unknown) => {
        pooled?.discard();
        await this.sandboxes.remove(record.id);
        throw err;
      });
    }

    return this.locks.run(record.id, async () => {
      try {
        if (pooled) await pooled.bind(record);
        else await this.provision(provider, record);
        this.log.info('sandbox.transition', { sandbox: record.id, step: 'provider.start', pooled: !!pooled });
        await this.startWithAttachments(provider, record, req.repo, !!pooled);
        return await this.markRunning(record.id);
      } catch (err) {
        const reason = describeFailure(err);
        await this.markFailed(provider, record.id, `create failed: ${reason}`);
        throw new ProviderFailureError(
          `sandbox ${record.name} (${record.id}) could not be created: ${reason}. It is kept with status ERROR; start it to retry or delete it.`,
          { cause: err },
        );
      }
    });
  }

  private async insertRecord(
    owner: Actor,
    req: CreateRequest,
    providerName: string,
    base: string,
    resources: ReturnType<typeof resolveResources>,
    isolation: IsolationLevel,
    pooledId?: string,
  ): Promise<SandboxRecord> {
    if (req.name !== undefined) validateName(req.name);
    // A generated name may collide (rarely): try a few; a given name is the caller's and is a 409.
    for (let attempt = 0; ; attempt++) {
      const now = nowIso();
      const record: SandboxRecord = {
        id: pooledId ?? newId('sbx'),
        owner_id: owner.id,
        name: req.name ?? generateName(),
        display_name: null,
        provider: providerName,
        base,
        description: req.description ?? null,
        topics: req.topics ? JSON.stringify(req.topics) : null,
        repo: req.repo ?? null,
        readme: req.readme ?? null,
        logo: null,
        vcpus: resources.vcpus,
        memory: resources.memoryGiB,
        disk: resources.diskGiB,
        pids: resources.pids,
        keep_alive: req.keepAlive ? 1 : 0,
        installs: 0,
        status: 'INITIALIZING',
        error: null,
        desired_state: 'running',
        provisioned: pooledId ? 1 : 0,
        created_at: now,
        updated_at: now,
        started_at: null,
        last_active_at: now,
        isolation,
      };
      try {
        await this.sandboxes.insert(record);
        this.log.info('sandbox.transition', { sandbox: record.id, name: record.name, to: 'INITIALIZING', step: 'recorded' });
        return record;
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        if (req.name !== undefined) throw new ConflictError(`name: a sandbox named ${JSON.stringify(req.name)} already exists`);
        if (attempt >= 5) throw err;
      }
    }
  }

  /** Creates the provider's filesystem for a record that has none yet. */
  private async provision(provider: Provider, record: SandboxRecord): Promise<void> {
    if (record.provisioned) return;
    this.log.info('sandbox.transition', { sandbox: record.id, step: 'provider.create' });
    await provider.prepareBase(record.base);
    await provider.create({
      id: record.id,
      hostname: record.name,
      base: record.base,
      resources: { vcpus: record.vcpus, memoryGiB: record.memory, diskGiB: record.disk, pids: record.pids || DEFAULT_RESOURCES.pids },
      isolation: record.isolation,
    });
    await this.sandboxes.update(record.id, { provisioned: 1 });
  }

  // --- start / stop / delete ------------------------------------------------------------

  async start(target: SandboxRecord, req: StartRequest = {}): Promise<SandboxRecord> {
    if (req.repo !== undefined) validateRepo(req.repo);
    return this.locks.run(target.id, async () => {
      const record = await this.reload(target);
      const provider = this.providerOf(record);
      const keepAlive = req.keepAlive === undefined ? {} : { keep_alive: req.keepAlive ? 1 : 0 };

      // Already up (and really so: the record may not know yet that the sandbox died):
      // starting again must not restart its processes.
      if (record.status === 'RUNNING' && (await isObservedRunning(provider, record.id))) {
        await this.sandboxes.update(record.id, { ...keepAlive, desired_state: 'running', last_active_at: nowIso() });
        // The provider's start on a running sandbox only clones (its processes keep running).
        if (req.repo) await this.cloneRepo(provider, record, req.repo);
        return this.reload(record);
      }

      const markStarting = () => this.sandboxes.update(record.id, { ...keepAlive, status: 'INITIALIZING', desired_state: 'running', error: null });
      if (this.admission) await this.admission.start(record, markStarting);
      else await markStarting();
      this.log.info('sandbox.transition', { sandbox: record.id, from: record.status, to: 'INITIALIZING', step: 'recorded' });
      try {
        await this.provision(provider, record);
        this.log.info('sandbox.transition', { sandbox: record.id, step: 'provider.start' });
        // The sandbox's own repo is cloned by its first start (at create); later starts clone only what they are given.
        await this.startWithAttachments(provider, record, req.repo ?? (record.provisioned ? undefined : record.repo ?? undefined));
        return await this.markRunning(record.id);
      } catch (err) {
        const reason = describeFailure(err);
        await this.markFailed(provider, record.id, `start failed: ${reason}`);
        throw new ProviderFailureError(`sandbox ${record.name} could not be started: ${reason}`, { cause: err });
      }
    });
  }

  /**
   * Stops a sandbox. `onlyIf` is checked on the fresh record under the lock (the idle reaper
   * uses it so a sandbox that became active meanwhile is left alone).
   */
  async stop(target: SandboxRecord, why = 'requested', onlyIf?: (r: SandboxRecord) => boolean): Promise<SandboxRecord> {
    return this.locks.run(target.id, async () => {
      const record = await this.reload(target);
      if (onlyIf && !onlyIf(record)) return record;
      if (record.status === 'STOPPED' && record.desired_state === 'stopped') return record;
      const provider = this.providerOf(record);

      await this.sandboxes.update(record.id, { desired_state: 'stopped' });
      this.log.info('sandbox.transition', { sandbox: record.id, from: record.status, step: 'provider.stop', why });
      for (const hook of this.hooks) {
        await hook.beforeStop?.(record).catch((err: unknown) => this.log.warn('sandbox.stop hook failed', { sandbox: record.id, hook: hook.name, err }));
      }
      try {
        if (record.provisioned) await provider.stop(record.id);
        await this.sandboxes.update(record.id, { status: 'STOPPED', error: null });
        this.log.info('sandbox.transition', { sandbox: record.id, to: 'STOPPED', why });
        return this.reload(record);
      } catch (err) {
        const reason = describeFailure(err);
        await this.sandboxes.update(record.id, { status: 'ERROR', error: `stop failed: ${reason}` });
        this.log.error('sandbox.transition', { sandbox: record.id, to: 'ERROR', err });
        throw new ProviderFailureError(`sandbox ${record.name} could not be stopped: ${reason}`, { cause: err });
      }
    });
  }

  async delete(target: SandboxRecord): Promise<void> {
    await this.locks.run(target.id, async () => {
      const record = await this.reload(target);
      const provider = this.providerOf(record);
      await this.sandboxes.update(record.id, { desired_state: 'deleted' });
      this.log.info('sandbox.transition', { sandbox: record.id, from: record.status, step: 'provider.delete' });
      try {
        await provider.delete(record.id);
      } catch (err) {
        const reason = describeFailure(err);
        // desired_state stays `deleted`: the next deleteSandbox or server start retries.
        await this.sandboxes.update(record.id, { status: 'ERROR', error: `delete failed: ${reason}` });
        this.log.error('sandbox.transition', { sandbox: record.id, to: 'ERROR', err });
        throw new ProviderFailureError(`sandbox ${record.name} could not be deleted: ${reason}`, { cause: err });
      }
      for (const hook of this.hooks) {
        await hook.afterDelete?.(record).catch((err: unknown) => this.log.warn('sandbox.delete hook failed', { sandbox: record.id, hook: hook.name, err }));
      }
      await this.sandboxes.remove(record.id);
      this.log.info('sandbox.transition', { sandbox: record.id, to: 'deleted' });
    });
  }

  // --- exec -----------------------------------------------------------------------------

  async exec(record: SandboxRecord, req: ExecRequest): Promise<ExecResult> {
    if (record.status !== 'RUNNING') {
      throw new InvalidStateError(`sandbox ${record.name} is ${record.status}, not RUNNING; start it first`);
    }
    if (req.cwd !== undefined && !req.cwd.startsWith('/')) {
      throw new InvalidInputError('cwd', 'cwd must be an absolute path inside the sandbox');
    }
    const provider = this.providerOf(record);
    const release = this.admitExec(record);
    this.runningExecs.set(record.id, (this.runningExecs.get(record.id) ?? 0) + 1);
    try {
      await this.sandboxes.touch(record.id);
      // The command itself is not logged: it may carry credentials.
      this.log.info('sandbox.exec', { sandbox: record.id });
      return await provider.exec(record.id, req.command, {
        cwd: req.cwd,
        env: { ...(await this.execEnv(record)), ...req.env },
        timeoutMs: req.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS,
      });
    } catch (err) {
      throw await this.explainExecFailure(provider, record, err);
    } finally {
      const n = (this.runningExecs.get(record.id) ?? 1) - 1;
      if (n > 0) this.runningExecs.set(record.id, n);
      else this.runningExecs.delete(record.id);
      release();
      await this.sandboxes.touch(record.id).catch(() => undefined);
    }
  }

  /**
   * Takes one of the owner's concurrent-exec slots for a command run outside `exec` (the
   * streaming route); throws RateLimitError when the owner has none free. Call the result when it ends.
   */
  admitExec(record: SandboxRecord): () => void {
    return this.admission ? this.admission.exec(record) : () => undefined;
  }

  /** The record said RUNNING but the provider disagrees: record the truth, then say why. */
  private async explainExecFailure(provider: Provider, record: SandboxRecord, err: unknown): Promise<Error> {
    if (err instanceof SandboxNotRunningError || err instanceof SandboxMissingError) {
      const observed = await provider.observe(record.id).catch(() => undefined);
      const reason = observed?.reason ? ` (${observed.reason})` : '';
      await this.locks.run(record.id, async () => {
        const fresh = await this.sandboxes.findById(record.id);
        if (fresh?.status !== 'RUNNING') return;
        if (observed?.state === 'missing' || err instanceof SandboxMissingError) {
          await this.sandboxes.update(record.id, { status: 'ERROR', provisioned: 0, error: `the sandbox disappeared from the provider${reason}` });
        } else if (observed?.state !== 'running') {
          await this.sandboxes.update(record.id, { status: 'STOPPED' });
        }
      });
      this.log.warn('sandbox.exec on a sandbox that is not running', { sandbox: record.id, observed: observed?.state, reason: observed?.reason });
      return new InvalidStateError(`sandbox ${record.name} is not running${reason}; start it first`);
    }
    // A refused cwd is the caller's mistake (400), not a provider failure (found by the safety suites).
    if (err instanceof PathEscapeError) return err;
    if (err instanceof ProviderError) return new ProviderFailureError(`exec failed: ${describeFailure(err)}`, { cause: err });
    return err instanceof Error ? err : new Error(String(err));
  }

  isExecuting(id: string): boolean {
    return this.runningExecs.has(id);
  }

  // --- helpers ----------------------------------------------------------------------------

  /** Waits for every queued transition (used by graceful shutdown). */
  async drain(): Promise<void> {
    await this.locks.drain();
  }

  /** Runs `fn` as a transition of this sandbox (reconciliation uses the same lock). */
  withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(id, fn);
  }

  providerOf(record: SandboxRecord): Provider {
    const provider = this.providers.find(record.provider);
    if (!provider) {
      throw new ProviderFailureError(`sandbox ${record.name} uses provider ${record.provider}, which is not configured on this server`);
    }
    return provider;
  }

  private async reload(record: SandboxRecord): Promise<SandboxRecord> {
    const fresh = await this.sandboxes.findById(record.id);
    if (!fresh) throw new SandboxNotFoundError(record.name);
    return fresh;
  }

  private async cloneRepo(provider: Provider, record: SandboxRecord, repo: string): Promise<void> {
    try {
      await provider.start(record.id, { repo });
    } catch (err) {
      throw new ProviderFailureError(`could not clone ${repo} into ${record.name}: ${describeFailure(err)}`, { cause: err });
    }
  }

  private async markRunning(id: string): Promise<SandboxRecord> {
    const now = nowIso();
    await this.sandboxes.update(id, { status: 'RUNNING', error: null, started_at: now, last_active_at: now });
    this.log.info('sandbox.transition', { sandbox: id, to: 'RUNNING' });
    return (await this.sandboxes.findById(id))!;
  }

  /** Stores the failure, then makes sure nothing half-started keeps running. */
  private async markFailed(provider: Provider, id: string, error: string): Promise<void> {
    await this.sandboxes.update(id, { status: 'ERROR', error });
    this.log.warn('sandbox.transition', { sandbox: id, to: 'ERROR', error });
    await provider.stop(id).catch((err: unknown) => this.log.warn('sandbox.cleanup after failure failed', { sandbox: id, err }));
  }

}

async function isObservedRunning(provider: Provider, id: string): Promise<boolean> {
  const seen = await provider.observe(id).catch(() => undefined);
  return seen?.state === 'running';
}

/** A git URL the provider can hand to `git clone` safely (no option injection, no control characters). */
/**
 * What git can clone: a URL with a scheme git speaks, scp-like `[user@]host:path`, or an
 * absolute path inside the sandbox. Anything else is refused as bad input (400) instead of
 * failing later as a provider error (502); found by the safety suites' fuzzing.
 */
const GIT_URL = /^(?:(?:https?|git|ssh|git\+ssh|ssh\+git|file):\/\/\S+|(?:[A-Za-z0-9._~-]+@)?[A-Za-z0-9.-]+:[^\s/][^\s]*|\/\S+)$/;

function validateRepo(repo: string): void {
  if (repo.length === 0 || repo.length > 4096 || repo.startsWith('-') || /[\0-\x1f]/.test(repo) || !GIT_URL.test(repo)) {
    throw new InvalidInputError('repo', `repo ${JSON.stringify(repo)} is not a git URL`);
  }
}
