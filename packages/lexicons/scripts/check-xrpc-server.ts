// Checks that @atproto/xrpc-server 0.8 (which bundles its own @atproto/lexicon 0.4) accepts every
// lexicon document and lets a handler be registered for every method. Run:
//   npm run check-xrpc-server -w packages/lexicons
// test/xrpc-server.test.ts does the same plus real HTTP requests; this script is the quick check.
import { createServer } from '@atproto/xrpc-server';
import { loadLexiconDocs, methods } from '../src/index';

const server = createServer(loadLexiconDocs() as unknown as Parameters<typeof createServer>[0]);
for (const method of methods) {
  server.method(method.nsid, async () => ({ encoding: 'application/json', body: {} }));
}
console.log(`xrpc-server accepted ${methods.length} methods`);
