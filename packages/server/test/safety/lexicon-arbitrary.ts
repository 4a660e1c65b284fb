/**
 * fast-check arbitraries generated from the lexicons: for every method, its query params and
 * its JSON body. Values are mostly shaped like the lexicon says (so requests get past
 * validation into the handlers) and otherwise hostile: wrong types, nulls, huge and unicode
 * strings, negative and huge numbers, path traversal and NUL bytes, unknown extra fields.
 * `idPool` values (real sandbox ids and names) are mixed into id-like fields so handlers
 * reach their deeper paths.
 */
import fc from 'fast-check';
import type { LexiconDoc } from '@atproto/lexicon';

type Schema = Record<string, any>;

export const TRAVERSAL = [
  '../../../../etc/passwd',
  '/../../../etc/shadow',
  '/proc/1/root/etc/passwd',
  '..',
  '/',
  '',
  '.',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '/workspace/\0/x',
  'a\0b',
  '\\..\\..\\windows',
  '/dev/../proc/self/exe',
  '//..//..//',
  'file:///etc/passwd',
  'http://127.0.0.1:1/x',
  '$(reboot)',
  '`id`',
  "'; DROP TABLE sandboxes; --",
  '{"$gt": ""}',
  '\u202e\u0000\uffff\ud800',
];

export const HOSTILE_NUMBERS = [-1, 0, -2147483649, 2 ** 53, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e308, 0.5, -0.0001, 65536, 1024];

const hugeString = fc.integer({ min: 10_000, max: 200_000 }).map((n) => 'A'.repeat(n));

/** A value of the wrong kind for whatever field it lands in. */
export function hostile(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constant(null),
    fc.constantFrom(...TRAVERSAL),
    fc.constantFrom(...HOSTILE_NUMBERS),
    fc.string({ unit: 'binary', maxLength: 64 }),
    hugeString,
    fc.boolean(),
    fc.array(fc.constantFrom(...TRAVERSAL), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 8 }), fc.constantFrom(...TRAVERSAL), { maxKeys: 3 }),
    fc.anything({ maxDepth: 2 }),
  );
}

export class LexiconArbitraries {
  private readonly docs = new Map<string, LexiconDoc>();

  constructor(
    docs: readonly LexiconDoc[],
    private readonly idPool: string[],
  ) {
    for (const d of docs) this.docs.set(d.id, d);
  }

  /** Query params as strings (arrays repeat the key), or hostile strings. */
  params(nsid: string): fc.Arbitrary<Array<[string, string]>> {
    const main = this.docs.get(nsid)!.defs.main as Schema;
    const props: Record<string, Schema> = main.parameters?.properties ?? {};
    const required: string[] = main.parameters?.required ?? [];
    const entries = Object.entries(props).map(([name, schema]) => {
      const value = fc.oneof(
        { weight: 4, arbitrary: this.value(schema, nsid, name, 0) },
        { weight: 1, arbitrary: hostile() },
      );
      const present = required.includes(name) ? fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }) : fc.boolean();
      return fc.tuple(fc.constant(name), value, present);
    });
    const extra = fc.array(fc.tuple(fc.constantFrom('id', 'limit', 'offset', 'x', '__proto__', 'constructor'), fc.constantFrom(...TRAVERSAL, '-1', '1e9')), { maxLength: 2 });
    return fc.tuple(fc.tuple(...entries), extra).map(([list, more]) => {
      const out: Array<[string, string]> = [];
      for (const [name, v, present] of list as Array<[string, unknown, boolean]>) {
        if (!present || v === undefined) continue;
        if (Array.isArray(v)) for (const item of v) out.push([name, stringify(item)]);
        else out.push([name, stringify(v)]);
      }
      return [...out, ...more];
    });
  }

  /** The JSON body of a procedure (undefined for queries), sometimes hostile as a whole. */
  body(nsid: string): fc.Arbitrary<unknown> {
    const main = this.docs.get(nsid)!.defs.main as Schema;
    if (main.type !== 'procedure') return fc.constant(undefined);
    const schema = main.input?.schema as Schema | undefined;
    if (!schema) return fc.oneof(fc.constant(undefined), fc.constant({}), hostile());
    return fc.oneof({ weight: 6, arbitrary: this.value(schema, nsid, 'body', 0) }, { weight: 1, arbitrary: hostile() });
  }

  private resolve(ref: string, nsid: string): { schema: Schema; nsid: string } | undefined {
    const [docId, defName] = ref.startsWith('#') ? [nsid, ref.slice(1)] : ref.includes('#') ? ref.split('#') : [ref, 'main'];
    const doc = this.docs.get(docId!);
    const def = doc?.defs[defName!] as Schema | undefined;
    return def ? { schema: def, nsid: docId! } : undefined;
  }

  /** A lexicon-shaped value (fields can still be hostile one level down). */
  value(schema: Schema, nsid: string, field: string, depth: number): fc.Arbitrary<unknown> {
    if (depth > 4) return fc.constant(null);
    const field_ = field.toLowerCase();
    switch (schema.type) {
      case 'ref': {
        const r = this.resolve(schema.ref, nsid);
        return r ? this.value(r.schema, r.nsid, field, depth + 1) : hostile();
      }
      case 'union': {
        const refs: string[] = schema.refs ?? [];
        if (refs.length === 0) return hostile();
        return fc.oneof(...refs.map((ref) => {
          const r = this.resolve(ref, nsid);
          return r ? this.value(r.schema, r.nsid, field, depth + 1).map((v) => (v && typeof v === 'object' ? { $type: ref.startsWith('#') ? `${nsid}${ref}` : ref, ...v } : v)) : hostile();
        }));
      }
      case 'string': {
        // A repo is cloned from inside the sandbox: never generate one that would reach the
        // network (tests only talk to loopback and the project's own addresses).
        if (field_ === 'repo') {
          return fc.oneof(
            fc.constantFrom('file:///workspace/none.git', '/abs/path', 'relative', '-oProxyCommand=touch /tmp/x', 'file:///etc/passwd', '', 'http://127.0.0.1:1/x'),
            fc.string({ maxLength: 40 }).filter((x) => !/[:@]/.test(x)),
          );
        }
        const choices: fc.Arbitrary<unknown>[] = [
          fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 40) }),
          fc.string({ unit: 'grapheme', maxLength: 30 }),
          fc.constantFrom(...TRAVERSAL),
        ];
        if (schema.enum?.length) choices.push(fc.constantFrom(...schema.enum));
        if (schema.knownValues?.length) choices.push(fc.constantFrom(...schema.knownValues));
        if (/(^id$|sandboxid|serviceid|backupid|uuid)/.test(field_) && this.idPool.length) {
          return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...this.idPool) }, { weight: 3, arbitrary: fc.oneof(...choices) });
        }
        if (/path|directory|cwd/.test(field_)) choices.push(fc.constantFrom('/workspace/x', '/tmp/fuzz', '/workspace', '/root/.ssh/id_ed25519'));
        if (field_ === 'base') choices.push(fc.constantFrom('debian', 'node', 'nope'));
        if (field_ === 'command') choices.push(fc.constantFrom('true', 'echo hi', 'cat /etc/hostname'));
        return fc.oneof(...choices);
      }
      case 'integer':
        return fc.oneof(
          fc.integer({ min: schema.minimum ?? -1000, max: Math.min(schema.maximum ?? 1000, 1_000_000) }),
          fc.constantFrom(...HOSTILE_NUMBERS),
        );
      case 'boolean':
        return fc.boolean();
      case 'array':
        return fc.array(this.value(schema.items ?? { type: 'unknown' }, nsid, field, depth + 1), { maxLength: Math.min(schema.maxLength ?? 4, 4) });
      case 'object': {
        const props: Record<string, Schema> = schema.properties ?? {};
        const required: string[] = schema.required ?? [];
        const shape: Record<string, fc.Arbitrary<unknown>> = {};
        for (const [name, s] of Object.entries(props)) {
          shape[name] = fc.oneof({ weight: 5, arbitrary: this.value(s, nsid, name, depth + 1) }, { weight: 1, arbitrary: hostile() });
        }
        const complete = fc.record(shape, { requiredKeys: required.filter((k) => k in shape) });
        const partial = fc.record(shape, { requiredKeys: [] });
        const withExtra = fc.tuple(complete, fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'extra', 'id'), hostile(), { maxKeys: 2 })).map(([a, b]) => ({ ...b, ...a }));
        return fc.oneof({ weight: 6, arbitrary: complete }, { weight: 1, arbitrary: partial }, { weight: 1, arbitrary: withExtra });
      }
      case 'unknown':
        return fc.oneof(fc.constant({}), hostile());
      default:
        return hostile();
    }
  }
}

function stringify(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
