import type { ConnectedSandbox } from '../connected';
import * as files from '../files';
import type { RequestOptions } from '../http';
import { type KeyedPage, type ListOptions, keyedPage } from '../page';
import type { FileView } from './views';

/** Options of {@link Files.read}. */
export interface ReadOptions extends RequestOptions {
  /** `'text'` (UTF-8, the default) or `'bytes'`. */
  format?: 'text' | 'bytes';
  /** Refuse files larger than this (`ArchiveError`). @default 64 MiB */
  maxBytes?: number;
}

/**
 * `sb.file`: files attached to the sandbox (contents sealed here, written at every start and at
 * once when it runs), and `read`, which reads any file of the running sandbox.
 * @example
 * await sb.file.write('/workspace/hello.txt', 'Hello, Pocketenv!');
 * console.log(await sb.file.read('/workspace/hello.txt'));
 */
export class Files {
  readonly #sb: ConnectedSandbox;

  /** @internal use `sb.file` */
  constructor(sb: ConnectedSandbox) {
    this.#sb = sb;
  }

  /** Seals `content` and attaches it at `path`. @throws ConflictError when a file is attached there already. */
  write(path: string, content: string | Uint8Array, opts?: RequestOptions): Promise<FileView> {
    return files.write(this.#sb, path, content, opts);
  }

  /** One page of the attached files, newest first (also under `files`). */
  list(opts: ListOptions & RequestOptions = {}): Promise<KeyedPage<FileView, 'files'>> {
    return keyedPage('files', opts, (limit, offset, o) => files.list(this.#sb, limit, offset, o));
  }

  get(id: string, opts?: RequestOptions): Promise<FileView> {
    return files.get(this.#sb, id, opts);
  }

  /** Moves an attached file and replaces its content (sealed here). */
  update(id: string, path: string, content: string | Uint8Array, opts?: RequestOptions): Promise<void> {
    return files.update(this.#sb, id, { path, content }, opts);
  }

  /** Detaches a file (the copy already in the sandbox stays). */
  delete(id: string, opts?: RequestOptions): Promise<void> {
    return files.delete(this.#sb, id, opts);
  }

  /**
   * Reads any file of the running sandbox (attached or not), binary-safe. Follows symbolic links.
   * @throws InvalidRequestError when it does not exist or is a directory.
   * @example
   * const png = await sb.file.read('/workspace/logo.png', { format: 'bytes' });
   */
  read(path: string, opts?: ReadOptions & { format?: 'text' }): Promise<string>;
  read(path: string, opts: ReadOptions & { format: 'bytes' }): Promise<Uint8Array>;
  async read(path: string, opts: ReadOptions = {}): Promise<string | Uint8Array> {
    const { format = 'text', ...rest } = opts;
    const bytes = await files.read(this.#sb, path, rest);
    return format === 'bytes' ? bytes : new TextDecoder().decode(bytes);
  }
}
