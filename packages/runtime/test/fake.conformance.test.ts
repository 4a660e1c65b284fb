/**
 * The shared Provider conformance suite against the fake provider (no root needed). Every
 * skip names what the fake provider cannot do honestly; the rest of the contract holds.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { runProviderSuite } from '@pocketenv/runtime/conformance';
import { FakeProvider } from '../src/fake/index';
import { hostGitRepo } from './support/git-fixture';

let stateDir: string | undefined;
afterAll(async () => {
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

runProviderSuite({
  name: 'fake',
  newProvider: async () => new FakeProvider({ stateDir: (stateDir = await mkdtemp(join(tmpdir(), 'pe-fake-conformance-'))) }),
  base: 'host',
  gitRepo: hostGitRepo,
  skip: [
    {
      reason:
        'commands run on the host as the server user: they see host paths (pwd prints <tree>/workspace, /workspace is the host dir), HOME is <tree>/root, and `hostname` is the host name (only $HOSTNAME is the sandbox name)',
      tests: ['commands see the sandbox as their root filesystem, as root, with its hostname'],
    },
    {
      reason:
        'the test mounts a read-only volume, which a symbolic link cannot enforce (refused with UnsupportedCapabilityError), and reads mounts at absolute paths that commands do not see; fake.provider.test.ts covers read-write volumes and the refusals',
      tests: ['volumes: data lands in the host dir and survives stop and start'],
    },
  ],
});
