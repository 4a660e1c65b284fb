/** The shared Provider conformance suite against the local provider (a fresh state dir). */
import { afterAll, describe, it } from 'vitest';
import { runProviderSuite } from '@pocketenv/runtime/conformance';
import { LocalProvider } from '../src/local/index';
import { localGitRepo } from './support/git-fixture';
import { forceCleanup } from './support/host-traces';
import { localUnavailableReason, tempStateDir, warnSkipped } from './support/local';

const unavailable = localUnavailableReason();
warnSkipped('local.conformance.test.ts', unavailable);
if (unavailable) describe.skip('local conformance', () => it('needs root', () => undefined));
else {
  const stateDir = tempStateDir('pe-conformance-');
  afterAll(() => forceCleanup(stateDir)); // the suite deletes its sandboxes; this removes the dir

  runProviderSuite({ name: 'local', newProvider: () => new LocalProvider({ stateDir }), gitRepo: localGitRepo });
}
