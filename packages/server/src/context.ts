/** Everything a request handler may use; built once by startServer. */
import type { ServerConfig } from './config';
import type { Db } from './db/index';
import type { ActorStore } from './identity/actors';
import type { BoxKeyPair } from './keys';
import type { Logger } from './log';
import type { Orchestrator } from './sandboxes/orchestrator';
import type { ProviderRegistry } from './sandboxes/providers';
import type { SandboxRepository } from './sandboxes/repository';
import type { IsolationPolicy } from './sandboxes/isolation';

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
  isolation: IsolationPolicy;
}
