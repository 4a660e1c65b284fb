/** The conformance suite's `gitRepo` fixture for the local provider: a git daemon sandboxes can reach. */
import type { GitRepoFixture } from '../../src/conformance/index';
import { startTestGitHost } from './git-host';

export async function localGitRepo(): Promise<GitRepoFixture> {
  const files = { 'README.md': '# demo repo\n', 'src/hello.sh': '#!/bin/sh\necho hello from the repo\n' };
  const host = await startTestGitHost({ demo: files });
  return { url: host.url('demo'), badUrl: host.url('no-such-repo'), files, close: () => host.close() };
}
