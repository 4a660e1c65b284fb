/**
 * Answers that carry one record both wrapped (`{variable: …}`, the contract's shape, which the
 * JS, Rust and Gleam SDKs read) and flat (the same fields at the top level, which the official
 * Go SDK decodes; the Rust SDK's claim reads the wrapper of an otherwise flat view). One object
 * with both forms keeps every client working.
 */
export function wrappedAndFlat<K extends string, V extends object>(key: K, view: V): V & Record<K, V> {
  return { ...view, [key]: view } as V & Record<K, V>;
}
