/**
 * @module @pocketenv/runtime/conformance
 * The Provider conformance suite (vitest). Usage, in a provider's test file:
 *
 *   runProviderSuite({ name: 'local', newProvider: () => new LocalProvider({ stateDir }) });
 */
export { runProviderSuite, CONFORMANCE_TESTS, type ConformanceTest, type ProviderSuiteOptions, type GitRepoFixture } from './suite';
