// Regenerates src/generated/types.gen.ts from the lexicon JSON. Run: npm run gen -w packages/lexicons
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateTypes } from '../src/codegen';
import { loadLexiconDocs } from '../src/load';

const outFile = fileURLToPath(new URL('../src/generated/types.gen.ts', import.meta.url));
const docs = loadLexiconDocs();
writeFileSync(outFile, generateTypes(docs));
console.log(`wrote ${outFile} (${docs.length} lexicons)`);
