import type { LexiconDoc } from '@atproto/lexicon';

export type MethodType = 'query' | 'procedure';

export interface MethodInfo {
  nsid: string;
  type: MethodType;
  /** Whether the method needs `Authorization: Bearer <token>`. */
  auth: boolean;
}

/**
 * The only methods callable without a token. Kept as an explicit list (not a field in the JSON)
 * because lexicon documents have no standard place for it and a short list here is easy to
 * review: anything not listed requires authentication.
 */
export const UNAUTHENTICATED_METHODS: ReadonlySet<string> = new Set([
  'io.pocketenv.server.describeServer',
]);

/** One entry per query/procedure in `docs`, sorted by NSID. */
export function listMethods(docs: readonly LexiconDoc[]): MethodInfo[] {
  const methods: MethodInfo[] = [];
  for (const doc of docs) {
    const main = doc.defs.main;
    if (main?.type === 'query' || main?.type === 'procedure') {
      methods.push({ nsid: doc.id, type: main.type, auth: !UNAUTHENTICATED_METHODS.has(doc.id) });
    }
  }
  for (const nsid of UNAUTHENTICATED_METHODS) {
    if (!methods.some((m) => m.nsid === nsid)) {
      throw new Error(`UNAUTHENTICATED_METHODS names ${nsid}, which is not a lexicon method`);
    }
  }
  // NSIDs are ASCII: plain ordering (localeCompare would load ICU's collation data for nothing).
  return methods.sort((a, b) => (a.nsid < b.nsid ? -1 : a.nsid > b.nsid ? 1 : 0));
}
