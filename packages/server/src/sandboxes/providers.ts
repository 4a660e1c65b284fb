/**
 * The providers configured on this server, and the hosted provider names accepted as aliases
 * of them (./provider-aliases.ts). Anything else is a 400 that lists every accepted name.
 */
import type { BaseInfo, Provider } from '@pocketenv/runtime';
import { InvalidInputError } from '../errors';
import { resolveProviderAliases, type ProviderAliasSetting } from './provider-aliases';

/** What a create asked for, and the provider that runs it. */
export interface ResolvedProvider {
  /** The name the client sent (or the default provider's name): the sandbox's `provider`. */
  requested: string;
  provider: Provider;
}

export class ProviderRegistry {
  private readonly byName = new Map<string, Provider>();
  private readonly aliasTargets: Map<string, string>;

  /** Throws when the alias setting names a provider that is not among `providers` (start-up stops). */
  constructor(providers: Provider[], aliases: ProviderAliasSetting = new Map()) {
    if (providers.length === 0) throw new Error('at least one sandbox provider must be configured');
    for (const p of providers) {
      if (this.byName.has(p.name)) throw new Error(`two providers are named ${JSON.stringify(p.name)}`);
      this.byName.set(p.name, p);
    }
    this.aliasTargets = resolveProviderAliases(aliases, this.names(), this.defaultProvider().name);
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

  /** Hosted names and the provider each runs on (describeServer.providerAliases). */
  aliases(): Array<{ name: string; runsOn: string }> {
    return [...this.aliasTargets].map(([name, runsOn]) => ({ name, runsOn }));
  }

  /** The provider for a create request: `local` (else the first) when none is named, an alias's target, or the named one. */
  resolve(name: string | undefined): ResolvedProvider {
    if (name === undefined) {
      const provider = this.defaultProvider();
      return { requested: provider.name, provider };
    }
    const provider = this.byName.get(this.aliasTargets.get(name) ?? name);
    if (provider) return { requested: name, provider };
    const accepted = [...this.names(), ...this.aliasTargets.keys()].join(', ');
    throw new InvalidInputError('provider', `unknown provider ${JSON.stringify(name)}; accepted: ${accepted}`);
  }

  private defaultProvider(): Provider {
    return this.byName.get('local') ?? this.all()[0]!;
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
