/**
 * The shared Provider conformance suite against the docker provider (the engine of
 * scripts/dockerd.sh). No skip list: every test of the suite applies and passes. (With a remote
 * engine `volumes` is not declared, and the suite checks UnsupportedCapabilityError instead.)
 */
import { rm } from 'node:fs/promises';
import { afterAll, describe, it } from 'vitest';
import { runProviderSuite } from '@pocketenv/runtime/conformance';
import { localGitRepo } from './support/git-fixture';
import { dockerUnavailableReason, tempDockerProvider, warnDockerSkipped } from './support/docker';

const unavailable = dockerUnavailableReason();
warnDockerSkipped('docker.conformance.test.ts', unavailable);
if (unavailable) describe.skip('docker conformance', () => it('needs a Docker Engine', () => undefined));
else {
  const { stateDir, provider } = tempDockerProvider('pe-docker-conformance-');
  afterAll(() => rm(stateDir, { recursive: true, force: true })); // the suite deletes its sandboxes

  runProviderSuite({ name: 'docker', newProvider: () => provider, gitRepo: localGitRepo });
}
