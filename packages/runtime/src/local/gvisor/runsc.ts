/**
 * The `gvisor` isolation level's runtime: gVisor's `runsc` driven like crun (same bundle,
 * same create → plug the veth → start sequence), with its own `--root` so `list` only sees
 * its containers. Every call carries the same global flags:
 *
 *  - `--platform`: how the sandbox kernel traps the application's syscalls (ptrace here; KVM
 *    where /dev/kvm exists; systrap on releases that have it), see ./platform.ts.
 *  - `--network=sandbox`: gVisor's own TCP/IP stack (netstack) on the veth the host plugs
 *    into the sandbox's namespace, so the host kernel's network stack is not reachable either.
 *  - `--host-uds=create`: the exec agent may create its socket on the host dir bind-mounted
 *    at /dev/pocketenv (connecting to existing host sockets stays refused).
 *  - `--file-access=shared`: the host writes into a running sandbox's root (files, SSH keys,
 *    hostname); gVisor's default `exclusive` caches the root and would serve stale files.
 *  - `--oci-seccomp`: the bundle's seccomp allow-list is loaded inside gVisor. Measured: in
 *    runsc 20221219 it reaches the sandbox's init only, not processes started with `runsc exec`
 *    (every command, terminal and service: /proc/self/status says `Seccomp: 0`), so for those
 *    gVisor's kernel is the boundary (itself confined by gVisor's own host seccomp filter).
 *
 * One host quirk is handled here: runsc 20221219 decides that it runs "in the root network
 * namespace" when /proc/sys/net/core/rmem_default exists, and Linux ≥ 6.x has that file in
 * every namespace, so `start` refuses with "cannot run with network enabled in root network
 * namespace". `start` therefore runs in a private mount namespace in which an empty tmpfs
 * covers /proc/sys/net/core as seen from the sandbox's network namespace (proc's sysctl
 * dentries are per network namespace, so the mount is made from inside it).
 */
import { closeSync, openSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { CommandError, runCommand, type CommandResult } from '../command';
import { findBinary, type ContainerState, type ContainerStatus, type SandboxRuntime } from '../oci-runtime';
import type { GvisorPlatform } from './platform';

const MISSING = /does not exist|No such file or directory|not found/i;

// `$1` is the sandbox's init pid, `$2…` the runsc argv. Each step must succeed: without the
// mount, runsc would refuse; with it failing silently we would report a confusing error.
const HIDE_NET_CORE =
  'nsenter --net=/proc/$1/ns/net mount -t tmpfs -o size=4k,mode=0555 pocketenv-hide /proc/sys/net/core && shift && exec "$@"';

export class GvisorRuntime implements SandboxRuntime {
  readonly name = 'runsc' as const;
  readonly binary: string;
  readonly root: string;
  readonly platform: GvisorPlatform;
  private readonly globalFlags: string[];

  constructor(opts: { binary: string; root: string; platform: GvisorPlatform }) {
    this.binary = opts.binary;
    this.root = opts.root;
    this.platform = opts.platform;
    this.globalFlags = [
      '--root',
      this.root,
      `--platform=${opts.platform}`,
      '--network=sandbox',
      '--host-uds=create',
      '--file-access=shared',
      '--oci-seccomp',
    ];
  }

  private argv(args: string[]): string[] {
    return [...this.globalFlags, ...args];
  }

  private run(args: string[]): Promise<CommandResult> {
    return runCommand(this.binary, this.argv(args));
  }

  /**
   * Runs a runsc command that leaves a process behind (the sandbox after `create`, a waiting
   * runsc after `exec --detach`). That process inherits our stdio, so a pipe would never reach
   * EOF: stdout is /dev/null and stderr a file, read back for the error message.
   */
  private async runLeavingProcess(args: string[], errFile: string): Promise<CommandResult> {
    const out = openSync('/dev/null', 'w');
    const err = openSync(errFile, 'w', 0o600);
    try {
      const result = await runCommand(this.binary, this.argv(args), { stdio: ['ignore', out, err] });
      return { ...result, stderr: await readFile(errFile, 'utf8').catch(() => '') };
    } finally {
      closeSync(out);
      closeSync(err);
    }
  }

  /** Starts the sandbox kernel and the gofer; the application's init waits for `start`. */
  async create(containerId: string, bundle: string, logFile: string, pidFile: string): Promise<void> {
    // Like crun's: runsc's own errors go to `--log` and stderr, the sandbox's stdio is /dev/null.
    closeSync(openSync(logFile, 'w', 0o600));
    const result = await this.runLeavingProcess(['--log', logFile, 'create', '--bundle', bundle, '--pid-file', pidFile, containerId], `${logFile}.stderr`);
    await rm(`${logFile}.stderr`, { force: true });
    if (result.code !== 0) {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      throw new CommandError(`runsc create ${containerId}`, { ...result, stderr: `${result.stderr}\n${lastErrors(log)}`.trim() });
    }
  }

  async start(containerId: string, initPid: number): Promise<void> {
    if (!Number.isInteger(initPid) || initPid <= 1) throw new Error(`runsc start ${containerId}: invalid sandbox pid ${initPid}`);
    const nsenter = findBinary('nsenter') ?? 'nsenter';
    const script = HIDE_NET_CORE.replace('nsenter', nsenter);
    const result = await runCommand('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', String(initPid), this.binary, ...this.argv(['start', containerId])]);
    if (result.code !== 0) throw new CommandError(`runsc start ${containerId}`, result);
  }

  async state(containerId: string): Promise<ContainerState | undefined> {
    const result = await this.run(['state', containerId]);
    if (result.code !== 0) {
      if (MISSING.test(result.stderr)) return undefined;
      throw new CommandError(`runsc state ${containerId}`, result);
    }
    const parsed = JSON.parse(result.stdout) as { id: string; status: ContainerStatus; pid?: number };
    return { id: parsed.id, status: parsed.status, pid: parsed.pid ?? 0 };
  }

  async list(): Promise<ContainerState[]> {
    const result = await this.run(['list', '--format', 'json']);
    if (result.code !== 0) throw new CommandError('runsc list', result);
    const parsed = JSON.parse(result.stdout.trim() || 'null') as { id: string; status: ContainerStatus; pid?: number }[] | null;
    return (parsed ?? []).map((c) => ({ id: c.id, status: c.status, pid: c.pid ?? 0 }));
  }

  async kill(containerId: string, signal: 'TERM' | 'KILL', all = false): Promise<void> {
    const result = await this.run(['kill', ...(all ? ['--all'] : []), containerId, signal]);
    if (result.code !== 0 && !MISSING.test(result.stderr) && !/not running|stopped|no such process|has exited/i.test(result.stderr)) {
      throw new CommandError(`runsc kill ${containerId}`, result);
    }
  }

  async delete(containerId: string, force = false): Promise<void> {
    const result = await this.run(['delete', ...(force ? ['--force'] : []), containerId]);
    if (result.code !== 0 && !MISSING.test(result.stderr)) throw new CommandError(`runsc delete ${containerId}`, result);
  }

  /** `--pid-file` is required with `--detach`: without it runsc 20221219 re-executes itself with a broken argv. */
  async execDetached(containerId: string, processFile: string): Promise<void> {
    const pidFile = `${processFile}.pid`;
    const result = await this.runLeavingProcess(['exec', '--detach', '--pid-file', pidFile, '--process', processFile, containerId], `${processFile}.stderr`);
    await Promise.all([rm(pidFile, { force: true }), rm(`${processFile}.stderr`, { force: true })]);
    if (result.code !== 0) throw new CommandError(`runsc exec --detach ${containerId}`, result);
  }

  /**
   * `pidFile` receives the pid of the runsc process on the host (the sandbox's processes are
   * not host processes); `<pidFile>.internal` the command's pid inside the sandbox.
   */
  execArgv(containerId: string, processFile: string, pidFile: string): { file: string; args: string[] } {
    return {
      file: this.binary,
      args: this.argv(['exec', '--process', processFile, '--pid-file', pidFile, '--internal-pid-file', internalPidFile(pidFile), containerId]),
    };
  }

  /** Sends `signal` to a process group inside the sandbox (host signals never reach it). */
  async signalGroupInside(containerId: string, pgid: number, signal: 'TERM' | 'KILL'): Promise<void> {
    if (!Number.isInteger(pgid) || pgid <= 1) return;
    await this.run(['exec', containerId, '/bin/sh', '-c', `kill -${signal} -- -${pgid} 2>/dev/null; true`]);
  }

  /** Sends `signal` to every process of the sandbox but its init (kill(-1) from inside). */
  async signalAllButInit(containerId: string, signal: 'TERM' | 'KILL'): Promise<void> {
    await this.run(['exec', containerId, '/bin/sh', '-c', `kill -${signal} -1 2>/dev/null; true`]);
  }

  /** Pids of the processes inside the sandbox (its own pid namespace), [] when it is gone. */
  async pidsInside(containerId: string): Promise<number[]> {
    const result = await this.run(['ps', '--format', 'json', containerId]);
    if (result.code !== 0) return [];
    return (JSON.parse(result.stdout.trim() || '[]') as number[] | null) ?? [];
  }
}

export function internalPidFile(pidFile: string): string {
  return `${pidFile}.internal`;
}

/** The error lines of a runsc log (it is JSON lines; the last errors say what failed). */
function lastErrors(log: string): string {
  const lines = log.split('\n').filter((l) => /"level":"(error|warning)"/.test(l) || /^[EW]\d{4}/.test(l));
  return lines.slice(-5).join('\n');
}
