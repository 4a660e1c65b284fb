/**
 * The escape suite (escape.test.ts) against the docker provider: the same attempts from inside
 * `provider: "docker"` sandboxes. Needs a Docker Engine (scripts/dockerd.sh); without one it
 * says so and skips.
 */
import { describe, it } from 'vitest';
import { dockerUnavailableReason, warnDockerSkipped } from '../../../runtime/test/support/docker';

const unavailable = dockerUnavailableReason();
warnDockerSkipped('escape.docker.test.ts', unavailable);
if (unavailable) describe.skip('escape suite: docker', () => it('needs a Docker Engine', () => undefined));
else {
  process.env.POCKETENV_SAFETY_PROVIDER = 'docker';
  await import('./escape.test');
}
