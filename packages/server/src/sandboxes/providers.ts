/**
 * The providers configured on this server, and the names of providers the hosted service
 * knows. A known name that is not configured here is a clear 400, not "unknown".
 */
import type { BaseInfo, Provider } from '@pocketenv/runtime';
import { InvalidInputError } from '../errors';

/** Provider names clients may send (the hosted service's enum plus our `local`). */
export const KNOWN_PROVIDERS = ['local', 'daytona', 'vercel', 'cloudflare', 'deno', 'sprites', 'modal', 'e2b', 'blaxel', 'hopx', 'runloop'] as const;

export class ProviderRegistry {
  private readonly byName = new Map<string, Provider>();

  constructor(providers: Provider[]) {
    if (providers.length === 0) throw new Error('at least one sandbox provider must be configured');
    for (const p of providers) {
      if (this.byName.has(p.name)) throw new Error(`two providers are named ${JSON.stringify(p.name)}`);
      this.byName.set(p.name, p);
    }
  }

  all(): Provider[] {
    return [...this.byName.values()];
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  find(name: string): Provider | undefined {
    return this.byName.get(name);
  }

  /** The provider for a create request; `local` when none is named and it is configured. */
  resolve(name: string | undefined): Provider {
    if (name === undefined) return this.byName.get('local') ?? this.all()[0]!;
    const provider = this.byName.get(name);
    if (provider) return provider;
    const available = this.names().join(', ');
    if ((KNOWN_PROVIDERS as readonly string[]).includes(name)) {
      throw new InvalidInputError('provider', `provider ${name} is not configured on this server; available: ${available}`);
    }
    throw new InvalidInputError('provider', `unknown provider ${JSON.stringify(name)}; available: ${available}`);
  }

  /**
   * Validates a base name against the provider's bases. Hosted clients may send a template
   * AT-URI (`at://did/io.pocketenv.sandbox/<name>`): its last segment is the base name.
   */
  async resolveBase(provider: Provider, requested: string): Promise<string> {
    const base = requested.startsWith('at://') ? (requested.split('/').pop() ?? '') : requested;
    const bases: BaseInfo[] = await provider.listBases();
    if (bases.some((b) => b.name === base)) return base;
    const available = bases.map((b) => b.name).join(', ') || '(none)';
    throw new InvalidInputError('base', `unknown base ${JSON.stringify(requested)} for provider ${provider.name}; available: ${available}`);
  }
}
