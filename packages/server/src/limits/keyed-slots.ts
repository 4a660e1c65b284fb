/**
 * At most `max` slots held at once per key (an actor's running commands, a preview's open
 * connections). Nothing is stored beyond the holders: a key's count lives as long as its slots.
 */
export class KeyedSlots {
  private readonly held = new Map<string, number>();

  constructor(readonly max: number) {}

  /** A release function (safe to call twice), or undefined when `key` already holds `max`. */
  take(key: string): (() => void) | undefined {
    const current = this.held.get(key) ?? 0;
    if (current >= this.max) return undefined;
    this.held.set(key, current + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.held.get(key) ?? 1) - 1;
      if (left > 0) this.held.set(key, left);
      else this.held.delete(key);
    };
  }
}
