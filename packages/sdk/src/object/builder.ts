import type { RequestOptions } from '../http';
import type { ClientChoice } from './config';
import type { CreateSandboxOptions } from './create-options';
import { Sandbox } from './sandbox';

/**
 * Fluent options for `Sandbox.create`: every setter returns the builder, `create()` sends.
 * Secrets are sealed when `create()` runs, for the server it talks to.
 * @example
 * const sb = await Sandbox.builder('openclaw')
 *   .name('my-sandbox')
 *   .vcpus(2)
 *   .memory(4) // GiB (4096 is read as MiB, as the official SDK's README means it)
 *   .env('NODE_ENV', 'production')
 *   .secret('API_KEY', process.env.API_KEY!)
 *   .keepAlive()
 *   .create();
 */
export class SandboxBuilder {
  readonly #options: CreateSandboxOptions & ClientChoice;

  constructor(base: string) {
    this.#options = { base };
  }

  name(name: string): this {
    return this.#set({ name });
  }

  description(description: string): this {
    return this.#set({ description });
  }

  provider(provider: string): this {
    return this.#set({ provider });
  }

  topics(...topics: string[]): this {
    return this.#set({ topics });
  }

  repo(repo: string): this {
    return this.#set({ repo });
  }

  vcpus(vcpus: number): this {
    return this.#set({ vcpus });
  }

  /** GiB below 128, MiB from 128 on (see `CreateSandboxOptions.memory`). */
  memory(memory: number): this {
    return this.#set({ memory });
  }

  /** GiB (at least 3). */
  disk(disk: number): this {
    return this.#set({ disk });
  }

  readme(readme: string): this {
    return this.#set({ readme });
  }

  /** Adds a variable (call it once per variable). */
  env(name: string, value: string): this {
    return this.#set({ envs: [...(this.#options.envs ?? []), { name, value }] });
  }

  /** Adds a secret (sealed by `create()`). */
  secret(name: string, value: string): this {
    return this.#set({ secrets: [...(this.#options.secrets ?? []), { name, value }] });
  }

  keepAlive(keepAlive = true): this {
    return this.#set({ keepAlive });
  }

  providerOptions(providerOptions: Record<string, unknown>): this {
    return this.#set({ providerOptions });
  }

  /** A token for this sandbox alone (instead of the configured one). */
  token(token: string): this {
    return this.#set({ token });
  }

  baseUrl(baseUrl: string): this {
    return this.#set({ baseUrl });
  }

  storageUrl(storageUrl: string): this {
    return this.#set({ storageUrl });
  }

  /** The server's sealing key (hex). @default POCKETENV_PUBLIC_KEY, else the server's own (describeServer) */
  publicKey(publicKey: string): this {
    return this.#set({ publicKey });
  }

  create(opts?: RequestOptions): Promise<Sandbox> {
    return Sandbox.create({ ...this.#options }, opts);
  }

  #set(change: Partial<CreateSandboxOptions & ClientChoice>): this {
    Object.assign(this.#options, change);
    return this;
  }
}
