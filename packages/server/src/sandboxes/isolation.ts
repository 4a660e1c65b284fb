/**
 * Isolation levels per sandbox (`standard` | `gvisor`): the operator's policy (which levels are
 * allowed, which is the default; src/config.ts) against what each provider can run on this host
 * (Provider.isolationLevels). A create asks for a level or gets the default; a level that is
 * unknown, not allowed or not runnable here is a 400 that says which are — never a sandbox
 * quietly created at another level.
 */
import { ISOLATION_LEVELS, type IsolationLevel, type IsolationSupport, type Provider } from '@pocketenv/runtime';
import { InvalidInputError } from '../errors';

export interface IsolationConfig {
  /** POCKETENV_ISOLATION_DEFAULT; always one of `allowed`. */
  default: IsolationLevel;
  /** POCKETENV_ISOLATION_ALLOWED. */
  allowed: IsolationLevel[];
}

export const DEFAULT_ISOLATION: IsolationConfig = { default: 'standard', allowed: ['standard', 'gvisor'] };

function parseLevel(value: string, variable: string): IsolationLevel {
  if ((ISOLATION_LEVELS as readonly string[]).includes(value)) return value as IsolationLevel;
  throw new Error(`${variable}: unknown isolation level ${JSON.stringify(value)}; use ${ISOLATION_LEVELS.join(' or ')}`);
}

/** Reads POCKETENV_ISOLATION_DEFAULT / POCKETENV_ISOLATION_ALLOWED (once, at start). */
export function resolveIsolationConfig(env: NodeJS.ProcessEnv): IsolationConfig {
  const allowedRaw = env.POCKETENV_ISOLATION_ALLOWED?.trim();
  const allowed = allowedRaw
    ? [...new Set(allowedRaw.split(',').map((v) => parseLevel(v.trim(), 'POCKETENV_ISOLATION_ALLOWED')))]
    : DEFAULT_ISOLATION.allowed;
  const defaultRaw = env.POCKETENV_ISOLATION_DEFAULT?.trim();
  const def = defaultRaw ? parseLevel(defaultRaw, 'POCKETENV_ISOLATION_DEFAULT') : allowed.includes('standard') ? 'standard' : allowed[0]!;
  if (!allowed.includes(def)) {
    throw new Error(`POCKETENV_ISOLATION_DEFAULT=${def} is not in POCKETENV_ISOLATION_ALLOWED=${allowed.join(',')}; allow it or choose another default`);
  }
  return { default: def, allowed };
}

/** What a provider can run here; a provider without `isolationLevels` runs `standard` only. */
async function supportOf(provider: Provider): Promise<IsolationSupport[]> {
  if (provider.isolationLevels) return provider.isolationLevels();
  const probe = await provider.probe();
  return ISOLATION_LEVELS.map((level) =>
    level === 'standard'
      ? { level, available: probe.available, detail: probe.reason ?? `provider ${provider.name}` }
      : { level, available: false, detail: `provider ${provider.name} has no ${level} isolation` },
  );
}

/** An answer with an unavailable level is asked again after this long (runsc may have been installed). */
const RECHECK_UNAVAILABLE_MS = 60_000;

export class IsolationPolicy {
  /** Per provider (the local provider probes runsc with a real sandbox, so answers are kept). */
  private readonly support = new Map<string, { at: number; levels: Promise<IsolationSupport[]> }>();

  constructor(readonly config: IsolationConfig) {}

  levelsOf(provider: Provider): Promise<IsolationSupport[]> {
    const cached = this.support.get(provider.name);
    if (cached) return cached.levels;
    const at = Date.now();
    const levels = supportOf(provider).catch((err: unknown) =>
      ISOLATION_LEVELS.map((level) => ({ level, available: false, detail: `probe failed: ${(err as Error).message}` })),
    );
    this.support.set(provider.name, { at, levels });
    void levels.then((l) => {
      if (l.some((s) => !s.available)) {
        setTimeout(() => {
          if (this.support.get(provider.name)?.at === at) this.support.delete(provider.name);
        }, RECHECK_UNAVAILABLE_MS).unref();
      }
    });
    return levels;
  }

  /** The level a create gets: the requested one (validated) or the default. Throws InvalidInputError (400). */
  async resolve(provider: Provider, requested: string | undefined): Promise<IsolationLevel> {
    const level = requested ?? this.config.default;
    if (!(ISOLATION_LEVELS as readonly string[]).includes(level)) {
      throw new InvalidInputError('isolation', `unknown isolation level ${JSON.stringify(level)}; levels: ${ISOLATION_LEVELS.join(', ')}`);
    }
    if (!this.config.allowed.includes(level as IsolationLevel)) {
      throw new InvalidInputError(
        'isolation',
        `isolation ${level} is not allowed on this server (POCKETENV_ISOLATION_ALLOWED=${this.config.allowed.join(',')}); allowed: ${this.config.allowed.join(', ')}`,
      );
    }
    if (level === 'standard') return level; // what every provider runs (its own probe says when it cannot)
    const support = (await this.levelsOf(provider)).find((s) => s.level === level);
    if (!support?.available) {
      throw new InvalidInputError('isolation', `isolation ${level} is not available on this host (provider ${provider.name}): ${support?.detail ?? 'unknown level'}`);
    }
    return level as IsolationLevel;
  }

  /**
   * At server start: a level every sandbox must use (the default, or the only one allowed) has to
   * work here, or the server refuses to start, naming the variable to change.
   */
  async assertRequiredLevelsWork(providers: Provider[]): Promise<void> {
    const required = new Set<IsolationLevel>([this.config.default, ...(this.config.allowed.length === 1 ? this.config.allowed : [])]);
    required.delete('standard'); // the providers' own probe covers the standard level
    for (const level of required) {
      for (const provider of providers) {
        const support = (await this.levelsOf(provider)).find((s) => s.level === level);
        if (support?.available) continue;
        const variable = this.config.default === level ? `POCKETENV_ISOLATION_DEFAULT=${level}` : `POCKETENV_ISOLATION_ALLOWED=${this.config.allowed.join(',')}`;
        throw new Error(`${variable} requires ${level} isolation, but provider ${provider.name} cannot run it here: ${support?.detail ?? 'not supported'}`);
      }
    }
  }
}
