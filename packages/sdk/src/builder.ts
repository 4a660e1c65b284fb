import type { Client } from './client';
import type { CreateSandboxInput } from './sandbox-wire';

/** What a builder holds: the client plus the `createSandbox` body. */
export interface BuilderState {
  readonly client: Client;
  readonly input: Readonly<CreateSandboxInput>;
}

let readState: (builder: SandboxBuilder) => BuilderState;

/**
 * An opaque, immutable description of a sandbox to create. Made by `sandbox.new`, refined by
 * `sandbox.withDescription`, `sandbox.withRepo`, … (each returns a new builder), consumed by
 * `sandbox.create`. It has no public fields or constructor.
 */
export class SandboxBuilder {
  readonly #state: BuilderState;

  /** @internal use `sandbox.new` */
  private constructor(state: BuilderState) {
    this.#state = state;
  }

  static {
    readState = (builder) => builder.#state;
  }

  /** @internal */
  static of(state: BuilderState): SandboxBuilder {
    return new SandboxBuilder(state);
  }
}

/** The state inside a builder (for `sandbox.create`). */
export function stateOf(builder: SandboxBuilder): BuilderState {
  return readState(builder);
}

/** A copy of `builder` with some fields of the create body replaced. */
export function withInput(builder: SandboxBuilder, change: Partial<CreateSandboxInput>): SandboxBuilder {
  const { client, input } = readState(builder);
  return SandboxBuilder.of({ client, input: { ...input, ...change } });
}
