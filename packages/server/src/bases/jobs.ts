/**
 * The server's build jobs (see builds.ts): a provider's base image, and the shared code-server
 * (VS Code) tool. Also the two ways requests wait for them: createSandbox for its base (bounded,
 * then 503 NotReady) and exposeVscode for code-server (answers at once while it builds).
 */
import { ensureCodeServer, isCodeServerBuilt, type Provider } from '@pocketenv/runtime';
import { CODE_SERVER_BUILD, type LocalProviderSettings } from '../config';
import type { AppContext } from '../context';
import { describeFailure, NotReadyError, ProviderFailureError } from '../errors';
import { setRetryAfter } from '../limits/index';
import { BuildPendingError, describeState, type BuildJob, type BuildQueue } from './builds';

/**
 * Rough build times on the 2-core dev box from an empty cache (debian 33 s, node 4 s, openclaw
 * 43 s, claude 9 s, code-server 3-9 min): estimates until a build reports its own pace.
 */
const TYPICAL_SECONDS: Record<string, number> = { debian: 40, node: 5, openclaw: 45, claude: 10, [CODE_SERVER_BUILD]: 300 };
const UNKNOWN_BASE_SECONDS = 60;

export const baseBuildKey = (provider: string, base: string) => `base:${provider}/${base}`;
export const CODE_SERVER_KEY = `tool:${CODE_SERVER_BUILD}`;

export function baseJob(provider: Provider, base: string): BuildJob {
  // The local provider names its events `<base>: <step>`; a derived base's build first reports
  // its parents' (already built) bases, whose fractions are not this build's.
  const own = `${base}: `;
  return {
    key: baseBuildKey(provider.name, base),
    label: `base ${base}`,
    typicalSeconds: TYPICAL_SECONDS[base] ?? UNKNOWN_BASE_SECONDS,
    paced: true,
    isReady: async () => (await provider.listBases()).some((b) => b.name === base && b.ready),
    run: (progress, signal) =>
      provider.prepareBase(
        base,
        (e) => (e.phase.startsWith(own) ? progress(e.fraction, e.phase.slice(own.length)) : progress(undefined, e.phase)),
        signal,
      ),
  };
}

/** `dirs`: the configured image cache (its `node` base) and shared tools dir. */
export function codeServerJob(dirs: Pick<LocalProviderSettings, 'imageDir' | 'toolsDir'>): BuildJob {
  const own = `${CODE_SERVER_BUILD}: `;
  return {
    key: CODE_SERVER_KEY,
    label: CODE_SERVER_BUILD,
    typicalSeconds: TYPICAL_SECONDS[CODE_SERVER_BUILD]!,
    paced: false,
    isReady: async () => isCodeServerBuilt(dirs.toolsDir),
    run: async (progress, signal) => {
      await ensureCodeServer({
        imageDir: dirs.imageDir,
        toolsDir: dirs.toolsDir,
        signal,
        onProgress: (e) => {
          const step = e.phase.startsWith(own) ? e.phase.slice(own.length) : e.phase;
          // Its own `node` base comes first, with that build's fractions.
          progress(step.startsWith('node base:') ? undefined : e.fraction, step);
        },
      });
    },
  };
}

/** POCKETENV_PREBUILD's jobs: its bases (of every provider that has them) and code-server. An unknown name stops the start. */
export async function prebuildJobs(ctx: AppContext): Promise<BuildJob[]> {
  const jobs: BuildJob[] = [];
  for (const name of ctx.config.prebuild) {
    if (name === CODE_SERVER_BUILD) {
      jobs.push(codeServerJob(ctx.config.local));
      continue;
    }
    const matching: Provider[] = [];
    for (const provider of ctx.providers.all()) if ((await provider.listBases()).some((b) => b.name === name)) matching.push(provider);
    if (matching.length === 0) {
      throw new Error(`POCKETENV_PREBUILD names ${JSON.stringify(name)}, which is neither a base of this server's providers nor ${CODE_SERVER_BUILD}`);
    }
    for (const provider of matching) jobs.push(baseJob(provider, name));
  }
  return jobs;
}

/**
 * Resolves once `base` is built (queued next when it is not), waiting at most
 * `ctx.config.baseWaitMs`; then 503 NotReady saying how far the build is. A failed build is a
 * 502 with its reason (and is tried again by the next request).
 */
export async function baseReady(ctx: AppContext, builds: BuildQueue, provider: Provider, base: string): Promise<void> {
  try {
    await builds.ready(baseJob(provider, base), ctx.config.baseWaitMs);
  } catch (err) {
    if (err instanceof BuildPendingError) {
      if (err.state.readyInSeconds !== undefined) setRetryAfter(err.state.readyInSeconds);
      throw new NotReadyError(`base: ${err.message}; try again then (describeServer shows its progress)`);
    }
    throw new ProviderFailureError(`base ${base} could not be built: ${describeFailure(err)}`, { cause: err });
  }
}

/** exposeVscode's check: code-server is built, or its build is started (or moved up) and the caller told. */
export async function codeServerReady(builds: BuildQueue, dirs: Pick<LocalProviderSettings, 'imageDir' | 'toolsDir'>): Promise<void> {
  if (isCodeServerBuilt(dirs.toolsDir)) return;
  const job = codeServerJob(dirs);
  await builds.add(job, { urgent: true });
  const state = builds.state(job.key);
  if (!state || state.status === 'ready') return;
  if (state.readyInSeconds !== undefined) setRetryAfter(state.readyInSeconds);
  throw new NotReadyError(
    `VS Code needs code-server, which this machine builds once (several minutes): it is ${describeState(state)}; run this again then (describeServer shows its progress)`,
  );
}
