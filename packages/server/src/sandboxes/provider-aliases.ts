/**
 * Hosted provider names as aliases. The official clients only know the hosted service's
 * providers (the CLI refuses anything else before calling us, and defaults to `cloudflare`),
 * so each hosted name is accepted and runs on a provider this server has. The operator picks
 * the mapping with POCKETENV_PROVIDER_ALIASES (`cloudflare=local,daytona=local`); a name the
 * setting leaves out runs on the default provider.
 *
 * The setting is parsed (syntax, hosted names) with the rest of the configuration; that its
 * targets exist is checked when the provider registry is built — both before the server listens.
 */

import { ConfigError } from '@pocketenv/config';

/** The providers of the hosted service: what the official clients send (the CLI's `create` allows only these). */
export const HOSTED_PROVIDER_NAMES = ['cloudflare', 'daytona', 'deno', 'vercel', 'sprites', 'modal', 'e2b', 'hopx', 'runloop', 'blaxel'] as const;

export const PROVIDER_ALIASES_VAR = 'POCKETENV_PROVIDER_ALIASES';

/** `name=target` pairs the operator set, in their order; a hosted name may appear once. */
export type ProviderAliasSetting = ReadonlyMap<string, string>;

const PAIR = /^([a-z0-9-]+)\s*=\s*([a-z0-9-]+)$/;

/** Parses `cloudflare=local, daytona=local`; throws a message naming the variable for anything else. */
export function parseProviderAliases(raw: string | undefined): ProviderAliasSetting {
  const aliases = new Map<string, string>();
  if (raw === undefined || raw.trim() === '') return aliases;
  for (const entry of raw.split(',')) {
    const pair = entry.trim();
    if (pair === '') continue;
    const match = PAIR.exec(pair);
    if (!match) {
      throw new ConfigError(PROVIDER_ALIASES_VAR, `${JSON.stringify(pair)} is not NAME=PROVIDER (e.g. cloudflare=local); got ${JSON.stringify(raw)}`);
    }
    const [, name, target] = match as unknown as [string, string, string];
    if (!(HOSTED_PROVIDER_NAMES as readonly string[]).includes(name)) {
      throw new ConfigError(PROVIDER_ALIASES_VAR, `${JSON.stringify(name)} is not a hosted provider name; the names are ${HOSTED_PROVIDER_NAMES.join(', ')}`);
    }
    if (aliases.has(name)) throw new ConfigError(PROVIDER_ALIASES_VAR, `${name} is mapped twice`);
    aliases.set(name, target);
  }
  return aliases;
}

/**
 * The full mapping: every hosted name that is not itself a provider of this server runs on
 * what the setting says, else on `defaultProvider`. Throws (naming the variable) when the
 * setting names a provider this server does not run, or remaps a name it does run.
 */
export function resolveProviderAliases(setting: ProviderAliasSetting, configured: readonly string[], defaultProvider: string): Map<string, string> {
  const resolved = new Map<string, string>();
  for (const [name, target] of setting) {
    if (configured.includes(name)) {
      throw new ConfigError(PROVIDER_ALIASES_VAR, `${name} is a provider of this server, so it cannot also be an alias`);
    }
    if (!configured.includes(target)) {
      throw new ConfigError(PROVIDER_ALIASES_VAR, `${name}=${target} names provider ${JSON.stringify(target)}, which this server does not run (it runs: ${configured.join(', ')})`);
    }
  }
  for (const name of HOSTED_PROVIDER_NAMES) {
    if (configured.includes(name)) continue;
    resolved.set(name, setting.get(name) ?? defaultProvider);
  }
  return resolved;
}
