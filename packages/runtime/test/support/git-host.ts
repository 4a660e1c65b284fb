/**
 * A git server sandboxes can clone from (github.com is unreachable on CI machines):
 * its own network namespace `pe-tg-<rand>` joined to the host by a veth whose host
 * end (`pgt<rand>`, deliberately NOT `pe*`) holds a /30 from 10.202.0.0/16. A
 * sandbox therefore reaches it through the host's forwarding path, like any
 * outside server, never through the host's input chain. `git daemon` serves bare
 * repos built on the host from the given file maps.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { AddressPool } from '../../src/local/network/allocation';
import { canConnect, mustRunIn, runIn, waitUntil } from './netns';

export interface TestGitHost {
  /** `git://<ip>/<repo>` (a URL for any name; unknown repos fail at clone time). */
  url(repo: string): string;
  /** The daemon's address and netns, for tests that need another listener there. */
  ip: string;
  netns: string;
  /** The host end's address (a host address: sandboxes must not reach it). */
  hostIp: string;
  close(): Promise<void>;
}

/** Host-wide allocations of test-host addresses; separate from sandboxes' 10.201.0.0/16. */
const TEST_NET_DIR = '/run/pocketenv/test-net';
const TEST_NETWORK = '10.202.0.0/16';
const GIT_PORT = 9418;
const REPO_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const gitEnv = (home: string): NodeJS.ProcessEnv => ({
  ...process.env,
  HOME: home,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Pocketenv Test',
  GIT_AUTHOR_EMAIL: 'test@pocketenv.invalid',
  GIT_COMMITTER_NAME: 'Pocketenv Test',
  GIT_COMMITTER_EMAIL: 'test@pocketenv.invalid',
});

export async function startTestGitHost(repos: Record<string, Record<string, string>>): Promise<TestGitHost> {
  const tag = randomBytes(4).toString('hex');
  const netns = `pe-tg-${tag}`;
  const hostIf = `pgt${tag}`;
  const pool = new AddressPool({ dir: TEST_NET_DIR, network: TEST_NETWORK });
  const cleanups: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const undo of cleanups.splice(0).reverse()) await undo().catch(() => undefined);
  };

  try {
    const dir = await mkdtemp(join(tmpdir(), `pe-tg-${tag}-`));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const base = join(dir, 'repos');
    await buildRepos(repos, dir, base);

    // The netns exists before its address is claimed, so the sweep below never frees a live host's address.
    await mustRunIn('host', ['ip', 'netns', 'add', netns]);
    cleanups.push(() => runIn('host', ['ip', 'netns', 'del', netns]));
    await releaseAbandonedAddresses(pool);
    const { block } = await pool.allocate(netns);
    cleanups.push(() => pool.release(netns));

    await mustRunIn('host', ['ip', 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
    cleanups.push(() => runIn('host', ['ip', 'link', 'del', hostIf]));
    await mustRunIn('host', ['ip', '-batch', '-'], {
      input: `addr add ${block.hostIp}/${block.prefixLength} dev ${hostIf}\nlink set ${hostIf} up\n`,
    });
    await mustRunIn('host', ['ip', '-n', netns, '-batch', '-'], {
      input: [
        'link set lo up',
        `addr add ${block.sandboxIp}/${block.prefixLength} dev eth0`,
        'link set eth0 up',
        `route add default via ${block.hostIp}`,
      ].join('\n') + '\n',
    });

    const ip = block.sandboxIp;
    // nsenter joins only the network namespace. `ip netns exec` would also make a mount
    // namespace, and on a host whose root mount is private its copy of every mount made
    // before keeps other tests' sandbox disks alive after they are unmounted.
    const daemon = spawn(
      'nsenter',
      [`--net=/var/run/netns/${netns}`, '--', 'git', 'daemon', '--export-all', `--base-path=${base}`, `--listen=${ip}`, `--port=${GIT_PORT}`, '--reuseaddr', '--informative-errors'],
      { stdio: ['ignore', 'ignore', 'pipe'], env: gitEnv(dir) },
    );
    let daemonLog = '';
    daemon.stderr.setEncoding('utf8').on('data', (d: string) => (daemonLog += d));
    const daemonExited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
    cleanups.push(async () => {
      if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
      await daemonExited;
    });
    await waitUntil(
      async () => {
        if (daemon.exitCode !== null) throw new Error(`git daemon exited (${daemon.exitCode}): ${daemonLog}`);
        return canConnect(ip, GIT_PORT, 500);
      },
      10_000,
      `git daemon on ${ip}:${GIT_PORT}`,
    );

    return { url: (repo) => `git://${ip}/${repo}`, ip, netns, hostIp: block.hostIp, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Builds a bare repo `<base>/<name>` for each file map (git needs HOME: `dir`). */
export async function buildRepos(repos: Record<string, Record<string, string>>, dir: string, base: string): Promise<void> {
  await mkdir(base, { recursive: true });
  for (const [name, files] of Object.entries(repos)) {
    if (!REPO_NAME.test(name) || name.includes('..')) throw new Error(`invalid test repo name ${JSON.stringify(name)}`);
    const work = join(dir, 'work', name);
    await mkdir(work, { recursive: true });
    for (const [path, content] of Object.entries(files)) {
      const rel = normalize(path);
      if (isAbsolute(rel) || rel.startsWith('..')) throw new Error(`file path outside the repo: ${path}`);
      await mkdir(dirname(join(work, rel)), { recursive: true });
      await writeFile(join(work, rel), content);
    }
    const env = gitEnv(dir);
    await mustRunIn('host', ['git', '-C', work, 'init', '-q', '-b', 'main'], { env });
    await mustRunIn('host', ['git', '-C', work, 'add', '-A'], { env });
    await mustRunIn('host', ['git', '-C', work, 'commit', '-q', '--allow-empty', '-m', 'initial'], { env });
    await mustRunIn('host', ['git', 'clone', '-q', '--bare', work, join(base, name)], { env });
  }
}

/** Frees addresses of test hosts whose netns is gone (their process was killed before close()). */
async function releaseAbandonedAddresses(pool: AddressPool): Promise<void> {
  for (const owner of await pool.owners()) {
    if (!existsSync(`/run/netns/${owner}`)) await pool.release(owner);
  }
}
