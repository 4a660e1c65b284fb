/**
 * The authorization matrix (authz.test.ts) with `provider: "docker"` fixture sandboxes: every
 * method and route, every kind of caller. Needs a Docker Engine (scripts/dockerd.sh); without
 * one it says so and skips.
 */
import { describe, it } from 'vitest';
import { dockerUnavailableReason, warnDockerSkipped } from '../../../runtime/test/support/docker';

const unavailable = dockerUnavailableReason();
warnDockerSkipped('authz.docker.test.ts', unavailable);
if (unavailable) describe.skip('authorization matrix: docker', () => it('needs a Docker Engine', () => undefined));
else {
  process.env.POCKETENV_SAFETY_PROVIDER = 'docker';
  await import('./authz.test');
}
