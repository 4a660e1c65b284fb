/** Captured exec output, bounded per stream (ExecOptions.maxOutputBytes). */

export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;

/** Collects up to `limit` bytes of a stream; counts but drops the rest. */
export class BoundedBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  truncated = false;
  constructor(private readonly limit: number) {}
  push(chunk: Buffer) {
    const room = this.limit - this.size;
    if (chunk.length > room) {
      this.truncated = true;
      if (room > 0) {
        this.chunks.push(chunk.subarray(0, room));
        this.size += room;
      }
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
  }
  toBuffer() {
    return Buffer.concat(this.chunks, this.size);
  }
}
