/**
 * @module @pocketenv/runtime
 * The Provider contract, its conformance suite, and the providers.
 */
export * from './provider/index';
export { readProcStat, readProcStatSync, type ProcStat } from './shared/proc-stat';
export { LocalProvider, type LocalProviderOptions } from './local/index';
export { DockerProvider, type DockerProviderOptions } from './docker/index';
export { connect as connectDocker, defaultEndpoint, engineAnswers, parseEndpoint, type DockerEndpoint } from './docker/connection';
/** For tests and development only: no isolation (see src/fake/index.ts). */
export { FakeProvider, type FakeProviderOptions } from './fake/index';
export { BaseImages, UID_BASE, UID_COUNT } from './local/images/index';
export { setupLocalHost, DEFAULT_BASES, type SetupLocalHostOptions } from './local/setup';
export { DEFAULT_IMAGE_DIR } from './local/images/default-dir';
export { checkHost, assertHostReady } from './local/host-check';
export { renderProgress } from './local/progress-bar';
export { packageDirOf } from './package-dir';
export {
  ensureCodeServer,
  ensureToolsDir,
  DEFAULT_TOOLS_DIR,
  codeServerTool,
  isCodeServerBuilt,
  CODE_SERVER_VERSION,
  TOOLS_MOUNT,
  type CodeServerTool,
} from './local/tools/code-server';
