import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseLexiconDoc, type LexiconDoc } from '@atproto/lexicon';

/** Directory holding one JSON file per lexicon, laid out as io/pocketenv/<group>/<name>.json. */
export const LEXICON_DIR = fileURLToPath(new URL('../lexicons', import.meta.url));

/** Every JSON file under `dir`, as paths relative to it, sorted so output is stable. */
export function listLexiconFiles(dir: string = LEXICON_DIR): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.split(sep).join('/'))
    .sort();
}

/**
 * Reads and checks every lexicon JSON. Returns fresh objects on each call: `new Lexicons()`
 * (both @atproto/lexicon 0.6 and the 0.4 copy inside xrpc-server) rewrites refs in the docs it is
 * given, so each consumer should get its own copy.
 */
export function loadLexiconDocs(dir: string = LEXICON_DIR): LexiconDoc[] {
  return listLexiconFiles(dir).map((file) => {
    const path = join(dir, file);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new Error(`${path}: invalid JSON: ${(err as Error).message}`);
    }
    try {
      parseLexiconDoc(json);
    } catch (err) {
      throw new Error(`${path}: not a valid lexicon document: ${(err as Error).message}`);
    }
    const doc = json as LexiconDoc;
    const expectedId = relative('.', file).replace(/\.json$/, '').split('/').join('.');
    if (doc.id !== expectedId) {
      throw new Error(`${path}: id is ${doc.id} but the file's path says ${expectedId}`);
    }
    return doc;
  });
}
