/** Captured exec output, bounded per stream (ExecOptions.maxOutputBytes). */

export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;

/**
 * Output a buffered exec may produce beyond its cap before it is killed: reading and dropping
 * it costs the server CPU, so an endless writer (`yes`, a flooding agent) is stopped.
 */
export const MAX_DROPPED_OUTPUT_BYTES = 64 * 1024 * 1024;

/** The note appended to stderr when a buffered exec was killed for writing too much. */
export const FLOOD_NOTE = `pocketenv: the command was killed: it wrote more than ${MAX_DROPPED_OUTPUT_BYTES / (1024 * 1024)} MiB beyond the output cap`;

/** Collects up to `limit` bytes of a stream; counts but drops the rest. */
export class BoundedBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Bytes counted but not kept (the exec guard bounds how much more it reads). */
  dropped = 0;
  constructor(private readonly limit: number) {}
  get truncated(): boolean {
    return this.dropped > 0;
  }
  push(chunk: Buffer) {
    const room = this.limit - this.size;
    if (chunk.length > room) {
      this.dropped += chunk.length - Math.max(0, room);
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
