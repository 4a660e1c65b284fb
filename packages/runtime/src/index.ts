/**
 * @module @pocketenv/runtime
 * The Provider contract, its conformance suite, and the providers.
 */
export * from './provider/index';
export { LocalProvider, type LocalProviderOptions } from './local/index';
