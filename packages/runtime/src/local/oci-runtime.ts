/**
 * A thin driver for the OCI runtime CLI (crun preferred, runc as fallback), with
 * one `--root` per provider so `list` only ever sees this provider's containers.
 *
 * Two host quirks are handled here and nowhere else:
 *  - crun refuses hybrid cgroup hosts ("drop all controllers from cgroupv2"). On such
 *    hosts create/delete run in a private mount namespace with the controller-less
 *    `unified` mount hidden, so crun works in pure v1 mode. exec/kill/state don't need it.
 *  - runc create hands its own stdio to the container's init. With pipes, the caller
 *    would wait forever for EOF; create therefore always gets a log file, never pipes.
 */
import { existsSync, openSync, closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { CommandError, runCommand, type CommandResult } from './command';
import type { CgroupMode } from './cgroups';

export type RuntimeName = 'crun' | 'runc';

/**
 * What the local provider needs from the program that runs a sandbox's bundle: crun/runc
 * (OciRuntime, the `standard` level) or runsc (GvisorRuntime, the `gvisor` level).
 */
export interface SandboxRuntime {
  readonly name: RuntimeName | 'runsc';
  readonly binary: string;
  readonly root: string;
  create(containerId: string, bundle: string, logFile: string, pidFile: string): Promise<void>;
  /** `initPid`: the host pid `create` wrote, whose namespaces the host has just configured. */
  start(containerId: string, initPid: number): Promise<void>;
  state(containerId: string): Promise<ContainerState | undefined>;
  list(): Promise<ContainerState[]>;
  kill(containerId: string, signal: 'TERM' | 'KILL', all?: boolean): Promise<void>;
  delete(containerId: string, force?: boolean): Promise<void>;
  execDetached(containerId: string, processFile: string): Promise<void>;
  execArgv(containerId: string, processFile: string, pidFile: string): { file: string; args: string[] };
}

export type ContainerStatus = 'creating' | 'created' | 'running' | 'stopped' | 'paused';

export interface ContainerState {
  id: string;
  status: ContainerStatus;
  /** Host pid of the container's init (0 when it has none). */
  pid: number;
}

const SEARCH_DIRS = ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin', '/bin', '/sbin'];

export function findBinary(name: string): string | undefined {
  for (const dir of SEARCH_DIRS) {
    const path = `${dir}/${name}`;
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** crun when installed, else runc; undefined when neither is. */
export function pickRuntime(preferred?: RuntimeName): { name: RuntimeName; binary: string } | undefined {
  const order: RuntimeName[] = preferred ? [preferred] : ['crun', 'runc'];
  for (const name of order) {
    const binary = findBinary(name);
    if (binary) return { name, binary };
  }
  return undefined;
}

// `$0` is the runtime binary, the rest its arguments. The umount may fail when
// `unified` is not mounted in this namespace; that is fine.
const HIDE_UNIFIED = 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$0" "$@"';

const MISSING = /does not exist|No such file or directory|not found/i;

export class OciRuntime implements SandboxRuntime {
  readonly name: RuntimeName;
  readonly binary: string;
  readonly root: string;
  private readonly hideUnified: boolean;

  constructor(opts: { name: RuntimeName; binary: string; root: string; cgroupMode: CgroupMode }) {
    this.name = opts.name;
    this.binary = opts.binary;
    this.root = opts.root;
    this.hideUnified = opts.name === 'crun' && opts.cgroupMode === 'hybrid';
  }

  /** argv for an operation that creates or removes cgroups. */
  private cgroupArgv(args: string[]): { file: string; args: string[] } {
    const full = ['--root', this.root, ...args];
    if (!this.hideUnified) return { file: this.binary, args: full };
    return { file: 'unshare', args: ['-m', '--propagation', 'private', 'sh', '-c', HIDE_UNIFIED, this.binary, ...full] };
  }

  private run(args: string[]): Promise<CommandResult> {
    return runCommand(this.binary, ['--root', this.root, ...args]);
  }

  /**
   * Creates the container (namespaces, cgroups, mounts; init waits for `start`).
   * The runtime's errors go to `logFile`, so they can be reported; the init's stdio is /dev/null.
   */
  async create(containerId: string, bundle: string, logFile: string, pidFile: string): Promise<void> {
    // The init inherits the runtime's stdio for its whole life. A host file there is an open
    // handle on a host file inside the sandbox: the escape suite took it with pidfd_getfd and
    // wrote into the data directory. So the stdio (the init's) is /dev/null, and the runtime's
    // own errors go to `--log`. The log file is truncated first so an error is this create's.
    closeSync(openSync(logFile, 'w', 0o600));
    const { file, args } = this.cgroupArgv(['--log', logFile, 'create', '--bundle', bundle, '--pid-file', pidFile, containerId]);
    const fd = openSync('/dev/null', 'w');
    let result: CommandResult;
    try {
      result = await runCommand(file, args, { stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    if (result.code !== 0) {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      throw new CommandError(`${this.name} create ${containerId}`, { ...result, stderr: log });
    }
  }

  async start(containerId: string, _initPid?: number): Promise<void> {
    const result = await this.run(['start', containerId]);
    if (result.code !== 0) throw new CommandError(`${this.name} start ${containerId}`, result);
  }

  /** The container's state, or undefined when the runtime does not know it. */
  async state(containerId: string): Promise<ContainerState | undefined> {
    const result = await this.run(['state', containerId]);
    if (result.code !== 0) {
      if (MISSING.test(result.stderr)) return undefined;
      throw new CommandError(`${this.name} state ${containerId}`, result);
    }
    const parsed = JSON.parse(result.stdout) as { id: string; status: ContainerStatus; pid?: number };
    return { id: parsed.id, status: parsed.status, pid: parsed.pid ?? 0 };
  }

  async list(): Promise<ContainerState[]> {
    if (!existsSync(this.root)) return [];
    const result = await this.run(['list', '--format', 'json']);
    if (result.code !== 0) throw new CommandError(`${this.name} list`, result);
    const parsed = JSON.parse(result.stdout.trim() || 'null') as { id: string; status: ContainerStatus; pid?: number }[] | null;
    return (parsed ?? []).map((c) => ({ id: c.id, status: c.status, pid: c.pid ?? 0 }));
  }

  /** Signals the init, or every process of the container with `all`. A missing/stopped container is not an error. */
  async kill(containerId: string, signal: 'TERM' | 'KILL', all = false): Promise<void> {
    const result = await this.run(['kill', ...(all ? ['--all'] : []), containerId, signal]);
    if (result.code !== 0 && !MISSING.test(result.stderr) && !/not running|stopped|no such process/i.test(result.stderr)) {
      throw new CommandError(`${this.name} kill ${containerId}`, result);
    }
  }

  /** Removes the container and its cgroups; `force` kills it first. Missing is fine. */
  async delete(containerId: string, force = false): Promise<void> {
    const { file, args } = this.cgroupArgv(['delete', ...(force ? ['--force'] : []), containerId]);
    const result = await runCommand(file, args);
    if (result.code !== 0 && !MISSING.test(result.stderr)) {
      throw new CommandError(`${this.name} delete ${containerId}`, result);
    }
  }

  /**
   * Starts a process in the container and returns once it runs, without waiting for it
   * (`exec -d`). Its stdio is /dev/null: a pipe would keep this call waiting for EOF.
   */
  async execDetached(containerId: string, processFile: string): Promise<void> {
    const result = await runCommand(this.binary, ['--root', this.root, 'exec', '-d', '--process', processFile, containerId], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    if (result.code !== 0) throw new CommandError(`${this.name} exec -d ${containerId}`, result);
  }

  /** argv of an exec whose process is described by a process.json file. */
  execArgv(containerId: string, processFile: string, pidFile: string): { file: string; args: string[] } {
    return { file: this.binary, args: ['--root', this.root, 'exec', '--process', processFile, '--pid-file', pidFile, containerId] };
  }
}
