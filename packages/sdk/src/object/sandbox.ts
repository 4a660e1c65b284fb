/**
 * `Sandbox`: the object API, with the official JS SDK's names and shapes (`Sandbox.configure/
 * create/get/list`, `sb.exec`, `sb.sh`, `sb.env/secret/file/volume/service/ports/copy/backup`),
 * so code written for it runs here unchanged, plus streaming exec, `sb.file.read`, typed
 * errors and `Page<T>`. Every call is one of the seed-shaped functions underneath, and a
 * `Sandbox` is a `ConnectedSandbox`, so it can be handed to any of them (`env.put(sb, …)`).
 *
 * @example
 * import { Sandbox } from '@pocketenv/sdk';
 *
 * const sb = await Sandbox.create({ base: 'debian' });
 * console.log((await sb.sh`echo hello`).stdout); // "hello\n"
 * await sb.delete();
 * @module
 */
import type { Client } from '../client';
import { ConnectedSandbox } from '../connected';
import { SandboxNotFoundError } from '../errors';
import { type RequestOptions, query } from '../http';
import * as network from '../network';
import { type KeyedPage, type ListOptions, keyedPage } from '../page';
import * as pocketenv from '../pocketenv';
import * as seed from '../sandbox';
import * as wire from '../sandbox-wire';
import * as backup from '../backup';
import { Backups } from './backup';
import { SandboxBuilder } from './builder';
import { type ClientChoice, type ConnectionOptions, clientFor, configure } from './config';
import { Copy } from './copy';
import { type CreateSandboxOptions, createInput } from './create-options';
import { Env } from './env';
import { type SandboxExecOptions, execStreaming, wantsStream } from './exec';
import { Files } from './file';
import { Ports } from './ports';
import { Secrets } from './secret';
import { Services } from './service';
import { shellCommand } from './shell';
import { SshKeys } from './sshkeys';
import { Tailscale } from './tailscale';
import type { BackupView, ExecResult, Profile, SandboxView, SshKeysView } from './views';
import { Volumes } from './volume';

/** Options of `Sandbox.list`. */
export interface SandboxListOptions extends ListOptions, RequestOptions, ClientChoice {
  /** `true`: only running sandboxes; `false`: only the others. */
  isRunning?: boolean;
}

export class Sandbox extends ConnectedSandbox {
  /** Files between this machine and the sandbox, or two sandboxes. */
  readonly copy: Copy;
  /** Attached files, and `read` for any file. */
  readonly file: Files;
  readonly volume: Volumes;
  readonly env: Env;
  readonly secret: Secrets;
  readonly tailscale: Tailscale;
  readonly sshKeys: SshKeys;
  readonly ports: Ports;
  readonly service: Services;
  readonly backup: Backups;

  /** Use `Sandbox.create`, `Sandbox.get` or `Sandbox.from`. */
  private constructor(data: SandboxView, client: Client) {
    super(data, client);
    this.copy = new Copy(this);
    this.file = new Files(this);
    this.volume = new Volumes(this);
    this.env = new Env(this);
    this.secret = new Secrets(this);
    this.tailscale = new Tailscale(this);
    this.sshKeys = new SshKeys(this);
    this.ports = new Ports(this);
    this.service = new Services(this);
    this.backup = new Backups(this);
    this.sh = this.sh.bind(this); // so `const { sh } = sb` still works
  }

  /**
   * Sets the connection every later call uses (calls given their own settings excepted).
   * Optional: without it, the first call reads the environment the same way.
   * @throws AuthenticationError when no token is given and none is found.
   * @example
   * Sandbox.configure({ token: process.env.POCKETENV_TOKEN, baseUrl: 'http://127.0.0.1:8789' });
   */
  static configure(opts: ConnectionOptions = {}): void {
    configure(opts);
  }

  /** A fluent builder for `create`. */
  static builder(base: string): SandboxBuilder {
    return new SandboxBuilder(base);
  }

  /**
   * Creates a sandbox (this server also starts it). Connection settings given here (`token`,
   * `baseUrl`, …) make a client for this sandbox alone.
   * @throws InvalidRequestError for an unknown base or provider (the message lists them), ConflictError when the name is taken.
   * @example
   * const sb = await Sandbox.create({ base: 'openclaw', name: 'my-sandbox' });
   */
  static async create(options: CreateSandboxOptions & ClientChoice, opts: RequestOptions = {}): Promise<Sandbox> {
    const { token, baseUrl, storageUrl, publicKey, client: given, ...create } = options;
    const client = clientFor({ token, baseUrl, storageUrl, publicKey, client: given });
    return new Sandbox(await wire.createSandbox(client, await createInput(client, create, opts), opts), client);
  }

  /**
   * A sandbox of the caller's, by id or name.
   * @throws SandboxNotFoundError when there is none (or it is someone else's).
   */
  static async get(idOrName: string, opts: RequestOptions & ClientChoice = {}): Promise<Sandbox> {
    const client = clientFor(opts);
    const data = await seed.get(client, idOrName, requestOptions(opts));
    if (data === null) throw new SandboxNotFoundError(404, 'SandboxNotFound', `no sandbox ${JSON.stringify(idOrName)} among yours`);
    return new Sandbox(data, client);
  }

  /**
   * One page of the caller's sandboxes, newest first (also under `sandboxes`).
   * @example
   * const { sandboxes, total } = await Sandbox.list({ limit: 10 });
   * for await (const s of await Sandbox.list()) console.log(s.name); // all of them
   */
  static async list(opts: SandboxListOptions = {}): Promise<KeyedPage<SandboxView, 'sandboxes'>> {
    const client = clientFor(opts);
    const { isRunning } = opts;
    let did: string | undefined; // the caller's, read once per listing
    return keyedPage('sandboxes', opts, async (limit, offset, o) => {
      did ??= (await pocketenv.getProfile(client, undefined, o)).did;
      return seed.getActorSandboxes(client, did, limit, offset, { ...o, isRunning });
    });
  }

  /** The caller's profile. */
  static async getProfile(opts: RequestOptions & ClientChoice = {}): Promise<Profile> {
    return pocketenv.getProfile(clientFor(opts), undefined, requestOptions(opts));
  }

  /** A short-lived token for the terminal WebSocket (`/pty/<id>/ws?token=…`). */
  static async getTerminalToken(opts: RequestOptions & ClientChoice = {}): Promise<string | undefined> {
    const body = (await query(clientFor(opts), 'io.pocketenv.actor.getTerminalToken', {}, requestOptions(opts))) as { token?: unknown };
    return typeof body.token === 'string' ? body.token : undefined;
  }

  /** Restores a backup into the sandbox it was taken from, or into `into` (an id or name). */
  static async restoreBackup(backupId: string, opts: RequestOptions & ClientChoice & { into?: string } = {}): Promise<void> {
    return backup.restoreBackup(clientFor(opts), backupId, { ...requestOptions(opts), into: opts.into });
  }

  /** The object API over a sandbox from the seed-shaped functions (`sandbox.create`, `sandbox.connect`); no request. */
  static from(connected: ConnectedSandbox): Sandbox {
    return new Sandbox(connected.data, connected.client);
  }

  /**
   * Runs `command` with `sh -c` and returns its output once it has ended (a non-zero exit code
   * is a result, not an error). With `onStdout`, `onStderr` or `stdin` it streams: output
   * reaches the callbacks as it is produced and stdin is fed as it comes.
   * @example
   * const { exitCode } = await sb.exec('npm test', { onStdout: (d) => process.stdout.write(d) });
   */
  override exec(command: string, opts: SandboxExecOptions = {}): Promise<ExecResult> {
    return wantsStream(opts) ? execStreaming(this, command, opts) : super.exec(command, opts);
  }

  /**
   * Runs a command line, from a tagged template (each interpolated value is quoted as one
   * shell word) or a plain string (run as written).
   * @example
   * const dir = '/home/user';
   * const { stdout } = await sb.sh`ls -la ${dir}`;
   */
  async sh(strings: TemplateStringsArray | string, ...values: unknown[]): Promise<ExecResult> {
    return this.exec(shellCommand(strings, values));
  }

  /** Exposes `port` (1025..65535) and returns its preview URL. @throws ConflictError when it is already exposed. */
  async expose(port: number, description?: string, opts?: RequestOptions): Promise<{ previewUrl: string }> {
    return { previewUrl: await network.expose(this, port, description, opts) };
  }

  /** Stops exposing `port`; its preview URL stops working. */
  unexpose(port: number, opts?: RequestOptions): Promise<void> {
    return network.unexpose(this, port, opts);
  }

  /** The URL of VS Code in the browser for this sandbox. */
  vscode(opts?: RequestOptions): Promise<string> {
    return this.exposeVscode(opts);
  }

  /** Same as `sb.sshKeys.get()`. */
  getSshKeys(opts?: RequestOptions): Promise<SshKeysView | null> {
    return this.sshKeys.get(opts);
  }

  /** Same as `sb.sshKeys.put(publicKey, privateKey)`. */
  putSshKey(publicKey: string, privateKey: string, opts?: RequestOptions): Promise<void> {
    return this.sshKeys.put(publicKey, privateKey, opts);
  }

  /** Same as `sb.backup.create(…)`. */
  createBackup(directory: string, description?: string, ttl?: number, opts?: RequestOptions): Promise<{ id: string; expiresAt?: string }> {
    return this.backup.create(directory, description, ttl, opts);
  }

  /** Same as `sb.backup.list(…)`. */
  listBackups(opts?: ListOptions & RequestOptions): Promise<KeyedPage<BackupView, 'backups'>> {
    return this.backup.list(opts);
  }
}

/** Only what a request needs from a static's options (not its connection settings). */
function requestOptions(opts: RequestOptions): RequestOptions {
  return { signal: opts.signal, requestTimeoutMs: opts.requestTimeoutMs };
}
