import type { ConnectedSandbox } from '../connected';
import * as copy from '../copy';
import type { CopyOptions } from '../copy';

/**
 * `sb.copy`: files between this machine and the sandbox, or between two sandboxes, through the
 * server's copy store. The destination is a directory: a file lands in it under its own name.
 * @example
 * await sb.copy.upload('./site', '/workspace/site');
 * await sb.copy.download('/workspace/site/dist', './dist');
 */
export class Copy {
  readonly #sb: ConnectedSandbox;

  /** @internal use `sb.copy` */
  constructor(sb: ConnectedSandbox) {
    this.#sb = sb;
  }

  /** Uploads a local file or directory (honouring .gitignore and friends) into `sandboxPath`. */
  upload(localPath: string, sandboxPath: string, opts?: CopyOptions): Promise<void> {
    return copy.upload(this.#sb, localPath, sandboxPath, opts);
  }

  /** Downloads a file or directory of the sandbox into the local directory `localPath`. */
  download(sandboxPath: string, localPath: string, opts?: CopyOptions): Promise<void> {
    return copy.download(this.#sb, sandboxPath, localPath, opts);
  }

  /** Copies `sourcePath` of this sandbox into `destPath` of another (a sandbox, or its id or name). */
  to(destination: ConnectedSandbox | string, sourcePath: string, destPath: string, opts?: CopyOptions): Promise<void> {
    return copy.to(this.#sb, destination, sourcePath, destPath, opts);
  }
}
