/** Everything a request handler may use; built once by startServer. */
import type { BuildQueue } from './bases/builds';
import type { ServerConfig } from './config';
import type { Db } from './db/index';
import type { ActorStore } from './identity/actors';
import type { BoxKeyPair } from './keys';
import type { Logger } from './log';
import type { Orchestrator } from './sandboxes/orchestrator';
import type { ProviderRegistry } from './sandboxes/providers';
import type { SandboxRepository } from './sandboxes/repository';

export interface AppContext {
  config: ServerConfig;
  version: string;
  log: Logger;
  db: Db;
  actors: ActorStore;
  sandboxes: SandboxRepository;
  providers: ProviderRegistry;
  orchestrator: Orchestrator;
  keys: BoxKeyPair;
  /** Base image and code-server builds, one at a time (bases/builds.ts). */
  builds: BuildQueue;
}
