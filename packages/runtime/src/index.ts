/**
 * @module @pocketenv/runtime
 * The Provider contract, its conformance suite, and the providers.
 */
export * from './provider/index';
export { LocalProvider, parseGvisorPlatform, type LocalProviderOptions } from './local/index';
export { BaseImages, UID_BASE, UID_COUNT } from './local/images/index';
export { setupLocalHost, defaultImageDir, DEFAULT_BASES } from './local/setup';
export { checkHost, assertHostReady } from './local/host-check';
export { renderProgress } from './local/progress-bar';
export {
  ensureCodeServer,
  ensureToolsDir,
  defaultToolsDir,
  codeServerTool,
  isCodeServerBuilt,
  CODE_SERVER_VERSION,
  TOOLS_MOUNT,
  type CodeServerTool,
} from './local/tools/code-server';
