/** The conformance suite's `gitRepo` fixtures: what a provider's sandboxes can clone. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GitRepoFixture } from '../../src/conformance/index';
import { buildRepos, startTestGitHost } from './git-host';

const FILES = { 'README.md': '# demo repo\n', 'src/hello.sh': '#!/bin/sh\necho hello from the repo\n' };

/** For the local provider: a git daemon in its own network namespace (needs root). */
export async function localGitRepo(): Promise<GitRepoFixture> {
  const host = await startTestGitHost({ demo: FILES });
  return { url: host.url('demo'), badUrl: host.url('no-such-repo'), files: FILES, close: () => host.close() };
}

/** For providers whose commands run on this host (fake): a bare repo in a temp dir, as a file:// URL. */
export async function hostGitRepo(): Promise<GitRepoFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'pe-git-'));
  const base = join(dir, 'repos');
  await buildRepos({ demo: FILES }, dir, base);
  return { url: `file://${base}/demo`, badUrl: `file://${base}/no-such-repo`, files: FILES, close: () => rm(dir, { recursive: true, force: true }) };
}
