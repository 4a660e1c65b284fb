/**
 * The Provider contract: the only surface the server uses to run sandboxes.
 *
 * A provider (local namespaces, docker, kubernetes, a hosted service) implements
 * these few methods; everything else (records, ownership, attachments, retries)
 * lives in the server. Keep this file small: a new method here is a new burden
 * on every provider.
 *
 * NOTE: the shared conformance suite (`../conformance/suite.ts`) exercises every
 * method below; update it together with this file.
 */

/** Resources a sandbox is created with. Memory and disk are GiB, as on the wire. */
export interface Resources {
  vcpus: number;
  memoryGiB: number;
  diskGiB: number;
  /** Maximum number of processes (tasks) inside the sandbox. */
  pids: number;
}

/**
 * How the sandbox is isolated from the host kernel. `standard`: namespaces, capabilities,
 * seccomp and cgroups on the host kernel (crun/runc). `gvisor`: the same bundle run by gVisor's
 * `runsc`, whose user-space kernel answers the sandbox's syscalls, a second boundary.
 */
export type IsolationLevel = 'standard' | 'gvisor';
export const ISOLATION_LEVELS: readonly IsolationLevel[] = ['standard', 'gvisor'];

/** Whether a provider can run sandboxes at an isolation level on this host, and if not, why. */
export interface IsolationSupport {
  level: IsolationLevel;
  available: boolean;
  /** What runs it (e.g. `runsc 0.0~20221219.0, platform ptrace`) or why it cannot run. */
  detail: string;
}

export interface CreateSpec {
  /** Stable id chosen by the caller (the server's `sbx_…` id). Used to name host objects. */
  id: string;
  /** Hostname inside the sandbox (the sandbox's name). */
  hostname: string;
  /** Base image / template name, e.g. `debian`. Must be prepared (see `prepareBase`). */
  base: string;
  resources: Resources;
  /** Default `standard`. Fixed for the sandbox's life: every later operation uses the same runtime. */
  isolation?: IsolationLevel;
}

export interface FileToWrite {
  /** Absolute path inside the sandbox. */
  path: string;
  content: Uint8Array;
  /** Octal mode; default 0o644. */
  mode?: number;
}

export interface VolumeMount {
  /** Host directory that holds the volume's data (owned by the server). */
  hostPath: string;
  /** Absolute mount point inside the sandbox. */
  path: string;
  readOnly?: boolean;
}

export interface StartSpec {
  /** Environment of every process in the sandbox (init, exec, services). */
  env?: Record<string, string>;
  files?: FileToWrite[];
  volumes?: VolumeMount[];
  /** A git URL cloned into `/workspace` (or a subfolder named after the repo when /workspace is not empty). */
  repo?: string;
}

export interface ExecOptions {
  /** Working directory inside the sandbox; default `/workspace`. */
  cwd?: string;
  /** Extra environment, merged over the sandbox's env. */
  env?: Record<string, string>;
  /** Kill the whole process tree after this many milliseconds. */
  timeoutMs?: number;
  /** Bytes written to the command's stdin, then stdin is closed. */
  stdin?: Uint8Array | string;
  /** Per-stream cap on captured output; beyond it output is dropped and `truncated` is set. Default 1 MiB. */
  maxOutputBytes?: number;
  signal?: AbortSignal;
}

export interface ExecResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
  /** True when stdout or stderr went over `maxOutputBytes`. */
  truncated: boolean;
  /** True when the command was killed because of `timeoutMs`. */
  timedOut: boolean;
}

/** Callbacks for the streaming form of exec. */
export interface ExecStreamHandlers {
  onStdout?(chunk: Buffer): void;
  onStderr?(chunk: Buffer): void;
}

/** A running streamed command: write to stdin, wait for the exit code, or kill it. */
export interface ExecProcess {
  writeStdin(data: Uint8Array | string): void;
  closeStdin(): void;
  kill(): void;
  /** Resolves with the exit code (128+signal when killed). */
  wait(): Promise<{ exitCode: number; timedOut: boolean }>;
}

/** Size and environment of an interactive terminal (see `Provider.terminalCommand`). */
export interface TerminalOptions {
  /** Initial window size, in character cells. */
  cols: number;
  rows: number;
  /** Working directory inside the sandbox; default `/workspace`. */
  cwd?: string;
  /** Extra environment, merged over the sandbox's env. */
  env?: Record<string, string>;
}

/**
 * A host command that, run inside a PTY the caller owns (node-pty, `script`…), is an
 * interactive login shell in the sandbox: the PTY's bytes are the shell's terminal.
 */
export interface TerminalCommand {
  file: string;
  args: string[];
  /** Gives the shell a new window size (SIGWINCH); call it after resizing the caller's own PTY. */
  resize(cols: number, rows: number): Promise<void>;
  /**
   * Call once the command has exited or will not be run: removes host-side state and ends the
   * shell if it outlived its terminal (what it started in the background is treated as a
   * hangup would treat it, as over SSH).
   */
  dispose(): Promise<void>;
}

/** What the provider observes, independent of what the server wants. */
export type ObservedState = 'running' | 'stopped' | 'missing';

export interface ObservedSandbox {
  id: string;
  state: ObservedState;
  /** Why the state is what it is, when that is not obvious (e.g. "init exited"). */
  reason?: string;
  /** Address of the sandbox on the host network, when it has one and is running. */
  address?: string;
}

export type Capability =
  | 'exec'
  | 'execStream'
  | 'files'
  | 'volumes'
  | 'network'
  | 'repo'
  | 'stopStart'
  | 'limits'
  | 'terminal';

export interface BaseInfo {
  name: string;
  description: string;
  /** True when the base is built and `create` can use it without waiting. */
  ready: boolean;
}

export interface ProgressEvent {
  phase: string;
  /** 0..1 when known. */
  fraction?: number;
  message?: string;
}

export interface Provider {
  /** Short name used on the wire (`local`, `docker`, …). */
  readonly name: string;
  readonly capabilities: ReadonlySet<Capability>;

  /** Checks the host can run this provider; resolves with a reason when it cannot. */
  probe(): Promise<{ available: boolean; reason?: string }>;
  /**
   * The isolation levels this provider can run here. Optional: a provider without it runs
   * `standard` only, and `create` with another level throws UnsupportedCapabilityError.
   */
  isolationLevels?(): Promise<IsolationSupport[]>;
  /** Bases this provider knows, built or not. */
  listBases(): Promise<BaseInfo[]>;
  /** Builds (once) and caches a base. Idempotent and safe to call concurrently. */
  prepareBase(base: string, onProgress?: (e: ProgressEvent) => void): Promise<void>;

  /** Creates the sandbox's filesystem and host objects; it is left stopped. Idempotent per id. */
  create(spec: CreateSpec): Promise<void>;
  /** Starts (or restarts) the sandbox; resolves once exec works. */
  start(id: string, spec?: StartSpec): Promise<void>;
  /** Ends every process in the sandbox; its filesystem is kept. Stopping a stopped sandbox is fine. */
  stop(id: string): Promise<void>;
  /** Removes everything the sandbox owns on the host. Safe to repeat; a missing id is not an error. */
  delete(id: string): Promise<void>;

  /** What exists right now (used for reconciliation after a restart). */
  list(): Promise<ObservedSandbox[]>;
  observe(id: string): Promise<ObservedSandbox>;

  /** Runs `sh -c command` inside a running sandbox. */
  exec(id: string, command: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Streaming exec; output arrives through `handlers` as it is produced. */
  execStream(id: string, command: string, handlers: ExecStreamHandlers, opts?: Omit<ExecOptions, 'stdin' | 'maxOutputBytes'>): Promise<ExecProcess>;

  /** An interactive shell in a running sandbox, as a command to run in a PTY (capability `terminal`). */
  terminalCommand(id: string, opts: TerminalOptions): Promise<TerminalCommand>;

  /** Writes files into a running sandbox; paths that escape the sandbox are refused. */
  writeFiles(id: string, files: FileToWrite[]): Promise<void>;
  /** Reads a file from a running sandbox. */
  readFile(id: string, path: string): Promise<Buffer>;
}
