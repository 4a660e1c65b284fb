/**
 * `Sandbox.create`'s options, as the official JS SDK names them, and how they become the
 * `createSandbox` body: secrets are sealed here (the official SDK sends them in plaintext),
 * `memory` is read in either unit, `providerOptions` are spread into the body.
 * @module
 */
import type { Client } from '../client';
import { sealFor } from '../crypto';
import type { CallOptions } from '../http';
import type { CreateSandboxInput } from '../sandbox-wire';

/**
 * The `createSandbox` body's fields (the lexicon's: `base`, `name`, `description`, `provider`,
 * `topics`, `repo`, `vcpus`, `disk` in GiB, `readme`, `envs`, `keepAlive`), with `memory` in
 * either unit, secrets in plaintext (sealed here) and `providerOptions`.
 */
export interface CreateSandboxOptions extends Omit<CreateSandboxInput, 'memory' | 'secrets'> {
  /**
   * Memory: GiB below 128, MiB from 128 on (the official SDK's README writes `.memory(4096)`
   * meaning 4 GiB); MiB are rounded up to whole GiB, the server's unit.
   */
  memory?: number;
  /** Secrets set from the first start. Their values are sealed to the server's key before they leave. */
  secrets?: Array<{ name: string; value: string }>;
  /** Extra top-level fields of the create body (the hosted service's provider credentials). */
  providerOptions?: Record<string, unknown>;
}

/** From this value on, `memory` is read as MiB. */
const MEMORY_MIB_FROM = 128;

/** `memory` in the server's unit (GiB), from GiB or MiB (see {@link CreateSandboxOptions.memory}). */
export function memoryInGiB(memory: number): number {
  return memory >= MEMORY_MIB_FROM ? Math.ceil(memory / 1024) : memory;
}

/** The `createSandbox` body for these options, secrets sealed for `client`'s server. */
export async function createInput(client: Client, options: CreateSandboxOptions, opts?: CallOptions): Promise<CreateSandboxInput> {
  const { providerOptions, secrets, memory, ...rest } = options;
  const sealed = secrets && (await Promise.all(secrets.map(async ({ name, value }) => ({ name, value: await sealFor(client, value, opts) }))));
  return {
    ...providerOptions,
    ...rest,
    ...(memory === undefined ? {} : { memory: memoryInGiB(memory) }),
    ...(sealed === undefined ? {} : { secrets: sealed }),
  };
}
