/**
 * Lifecycle hooks: how things attached to a sandbox (variables, secrets, files, volumes,
 * services, ports…) take part in its lifecycle without the orchestrator knowing each of them.
 * Each attachment module registers one hook with `Orchestrator.use` (see server.ts).
 */
import type { StartSpec } from '@pocketenv/runtime';
import type { SandboxRecord } from '../db/schema';

export interface LifecycleHook {
  /** Short name for logs. */
  readonly name: string;
  /** Adds to what the provider gets on every (re)start: env is merged, files and volumes are appended. */
  startSpec?(record: SandboxRecord): Promise<Partial<StartSpec>>;
  /** Runs once the sandbox is RUNNING (e.g. start services). A throw fails the start with its reason. */
  afterStart?(record: SandboxRecord): Promise<void>;
  /** Runs before the provider stops the sandbox (e.g. mark services STOPPED). Errors are logged, not fatal. */
  beforeStop?(record: SandboxRecord): Promise<void>;
  /** Runs after the sandbox is deleted on the provider, before its record goes. Errors are logged. */
  afterDelete?(record: SandboxRecord): Promise<void>;
  /** Environment for every exec (and terminal) in this sandbox, read fresh each time. */
  execEnv?(record: SandboxRecord): Promise<Record<string, string>>;
}

/** Folds the hooks' contributions into one StartSpec; later hooks win on env name clashes. */
export async function collectStartSpec(hooks: readonly LifecycleHook[], record: SandboxRecord, repo?: string): Promise<StartSpec> {
  const spec: StartSpec = { env: {}, files: [], volumes: [], repo };
  for (const hook of hooks) {
    const part = await hook.startSpec?.(record);
    if (!part) continue;
    Object.assign(spec.env!, part.env);
    spec.files!.push(...(part.files ?? []));
    spec.volumes!.push(...(part.volumes ?? []));
  }
  return spec;
}

export async function collectExecEnv(hooks: readonly LifecycleHook[], record: SandboxRecord): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const hook of hooks) Object.assign(env, await hook.execEnv?.(record));
  return env;
}
