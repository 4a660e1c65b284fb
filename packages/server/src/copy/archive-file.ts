/**
 * Writes an incoming archive to a file while counting its bytes against a limit. The bytes
 * come from an HTTP upload or from `tar` running inside a sandbox; neither is trusted, so
 * the count is checked on every chunk and the file never grows past the limit.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';

export class ArchiveFileWriter {
  private readonly out: WriteStream;
  private readonly hash = createHash('sha256');
  private written = 0;
  private over = false;
  private failed: Error | undefined;

  constructor(
    readonly file: string,
    readonly maxBytes: number,
  ) {
    this.out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
    this.out.on('error', (err) => (this.failed ??= err));
  }

  get bytes(): number {
    return this.written;
  }

  /** True once more than `maxBytes` were offered; nothing beyond the limit is written. */
  get tooLarge(): boolean {
    return this.over;
  }

  /** Appends a chunk; returns false when the limit was crossed (the chunk is dropped). */
  write(chunk: Buffer): boolean {
    if (this.over) return false;
    if (this.written + chunk.length > this.maxBytes) {
      this.over = true;
      return false;
    }
    this.written += chunk.length;
    this.hash.update(chunk);
    this.out.write(chunk);
    return true;
  }

  /** Waits while the file lags behind (for producers that can wait, e.g. an HTTP upload). */
  async drained(): Promise<void> {
    if (this.out.writableNeedDrain) await once(this.out, 'drain');
  }

  private closing: Promise<{ size: number; sha256: string }> | undefined;

  /** Flushes and closes the file; resolves with its size and sha256 (hex), rejects if writing failed. Idempotent. */
  close(): Promise<{ size: number; sha256: string }> {
    this.closing ??= (async () => {
      if (!this.out.closed) {
        this.out.end();
        await once(this.out, 'close');
      }
      if (this.failed) throw this.failed;
      return { size: this.written, sha256: this.hash.digest('hex') };
    })();
    return this.closing;
  }

  /** Closes and deletes the file (after a failure). */
  async discard(): Promise<void> {
    this.out.destroy();
    if (!this.out.closed) await once(this.out, 'close').catch(() => undefined);
    await rm(this.file, { force: true });
  }
}
