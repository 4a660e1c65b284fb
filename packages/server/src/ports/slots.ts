/**
 * Connections open at once per preview (HTTP requests in flight and WebSockets, keyed by the
 * port's token), bounded so one preview — a slow app, or a client opening connections in a
 * loop — cannot hold an unbounded share of the server's sockets. Nothing is stored: the count
 * lives as long as the connections.
 */
export class PreviewSlots {
  private readonly open = new Map<string, number>();

  constructor(readonly max: number) {}

  /** A release function (safe to call twice), or undefined when the preview is at its limit. */
  take(token: string): (() => void) | undefined {
    const held = this.open.get(token) ?? 0;
    if (held >= this.max) return undefined;
    this.open.set(token, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(token) ?? 1) - 1;
      if (left > 0) this.open.set(token, left);
      else this.open.delete(token);
    };
  }
}
