import { Lexicons, type LexiconDoc } from '@atproto/lexicon';
import { loadLexiconDocs } from './load';
import { listMethods, type MethodInfo } from './methods';

/**
 * Every io.pocketenv.* lexicon document, read from packages/lexicons/lexicons/**.json.
 * `new Lexicons(docs)` and xrpc-server's `createServer(docs)` rewrite refs inside the objects
 * they are given; pass them `loadLexiconDocs()` (a fresh copy) rather than this array.
 */
export const lexiconDocs: LexiconDoc[] = loadLexiconDocs();

/** The documents compiled for validation (`lexicons.assertValidXrpcInput(nsid, body)`, …). */
export const lexicons: Lexicons = new Lexicons(loadLexiconDocs());

/** Every query and procedure, with whether it needs a bearer token. */
export const methods: MethodInfo[] = listMethods(lexiconDocs);

export { loadLexiconDocs, listLexiconFiles, LEXICON_DIR } from './load';
export { UNAUTHENTICATED_METHODS, type MethodInfo, type MethodType } from './methods';
export * from './generated/types.gen';
