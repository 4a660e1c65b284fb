/**
 * Replays the HTTP requests of the official Pocketenv clients as they send them (from
 * /work/shared/reference/official-clients-wire.md and the clients' sources): the method, the
 * path, the query string, which headers go with a request, and whether a procedure without
 * data gets no body, an empty body or `{}`. Each compat test file picks its client's flavour
 * and then asserts on exactly the fields that client's decoder reads.
 */
import sodium from 'libsodium-wrappers';
import { expect } from 'vitest';

export type Query = Record<string, string | number | boolean | undefined>;

/** How a client frames requests; the differences matter to a strict server. */
export interface Flavour {
  /** `Content-Type: application/json` on GET too (Elixir's Req and Clojure's clj-http set it on every request). */
  jsonTypeOnGet: boolean;
  /**
   * What a procedure called without data sends:
   * - `none`: no body and no Content-Type (Go's nil body, reqwest without .json(), axios without data);
   * - `typed-empty`: Content-Type: application/json and no body (the JS SDK's stop()/delete(), Elixir, Clojure);
   * - `braces`: `{}` (Gleam always sends a body).
   */
  noData: 'none' | 'typed-empty' | 'braces';
  /** Extra headers on every request (Clojure sends Accept). */
  headers?: Record<string, string>;
}

export const FLAVOURS = {
  js: { jsonTypeOnGet: false, noData: 'typed-empty' },
  /** The CLI's own axios calls (deletes, service start/stop/restart). */
  axios: { jsonTypeOnGet: false, noData: 'none' },
  go: { jsonTypeOnGet: false, noData: 'none' },
  gleam: { jsonTypeOnGet: false, noData: 'braces' },
  rust: { jsonTypeOnGet: false, noData: 'none' },
  elixir: { jsonTypeOnGet: true, noData: 'typed-empty' },
  clojure: { jsonTypeOnGet: true, noData: 'typed-empty', headers: { accept: 'application/json' } },
} satisfies Record<string, Flavour>;

export interface Answer<T = any> {
  status: number;
  body: T;
}

/** A client of one flavour against one server, with one bearer token. */
export class WireClient {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
    readonly flavour: Flavour,
  ) {}

  get<T = any>(nsid: string, query: Query = {}): Promise<Answer<T>> {
    const headers: Record<string, string> = this.flavour.jsonTypeOnGet ? { 'content-type': 'application/json' } : {};
    return this.send('GET', nsid, query, headers);
  }

  /** A procedure; `data` undefined means the client had nothing to send (see Flavour.noData). */
  post<T = any>(nsid: string, query: Query = {}, data?: unknown): Promise<Answer<T>> {
    if (data !== undefined) return this.send('POST', nsid, query, { 'content-type': 'application/json' }, JSON.stringify(data));
    if (this.flavour.noData === 'braces') return this.send('POST', nsid, query, { 'content-type': 'application/json' }, '{}');
    if (this.flavour.noData === 'typed-empty') return this.send('POST', nsid, query, { 'content-type': 'application/json' });
    return this.send('POST', nsid, query, {});
  }

  private async send(method: 'GET' | 'POST', nsid: string, query: Query, headers: Record<string, string>, body?: string): Promise<Answer> {
    const url = new URL(`/xrpc/${nsid}`, this.baseUrl);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.append(k, String(v));
    const res = await fetch(url, { method, headers: { ...this.flavour.headers, ...headers, authorization: `Bearer ${this.token}` }, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: the raw text is what a test asserts on
    }
    return { status: res.status, body: parsed };
  }
}

/** The body of a 2xx answer; anything else fails the test with the server's message. */
export function ok<T>(answer: Answer<T>): T {
  expect(answer.status, JSON.stringify(answer.body)).toBeGreaterThanOrEqual(200);
  expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(300);
  return answer.body;
}

/**
 * The type a client's decoder needs for a field: `string`, `number` (an integer), `boolean`,
 * `array`, `object`, `datetime` (a string Go's time.Time and Rust/Elixir parsers accept: RFC 3339
 * with a zone). A trailing `?` makes the field optional, but typed when present.
 */
export type FieldType = 'string' | 'number' | 'boolean' | 'array' | 'object' | 'datetime';
export type Shape = Record<string, FieldType | `${FieldType}?`>;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Asserts that `value` has every field of `shape` with the type the client's decoder reads. */
export function expectDecodes(value: unknown, shape: Shape, what: string): void {
  expect(value, `${what}: not an object`).toBeTypeOf('object');
  const record = value as Record<string, unknown>;
  for (const [field, spec] of Object.entries(shape)) {
    const optional = spec.endsWith('?');
    const type = spec.replace('?', '') as FieldType;
    const got = record[field];
    if (got === undefined && optional) continue;
    const label = `${what}.${field} (${JSON.stringify(got)})`;
    if (type === 'array') expect(Array.isArray(got), label).toBe(true);
    else if (type === 'object') expect(got !== null && typeof got === 'object' && !Array.isArray(got), label).toBe(true);
    else if (type === 'number') expect(Number.isInteger(got), label).toBe(true);
    else if (type === 'datetime') expect(typeof got === 'string' && RFC3339.test(got) && !Number.isNaN(Date.parse(got)), label).toBe(true);
    else expect(typeof got, label).toBe(type);
  }
}

/** The hosted service's public key: every client's default, and the only one the Gleam SDK knows. */
export const HOSTED_PUBLIC_KEY = '2bf96e12d109e6948046a7803ef1696e12c11f04f20a6ce64dbd4bcd93db9341';

/** crypto_box_seal to a hex key, base64url without padding: what every client's sealing makes. */
export async function sealTo(publicKeyHex: string, plaintext: string): Promise<string> {
  await sodium.ready;
  return sodium.to_base64(sodium.crypto_box_seal(plaintext, sodium.from_hex(publicKeyHex)), sodium.base64_variants.URLSAFE_NO_PADDING);
}

/** The hosted JS SDK's redaction (first 11 and last 3 characters kept). */
export function redact(value: string): string {
  return value.length > 14 ? value.slice(0, 11) + '*'.repeat(value.length - 14) + value.slice(-3) : value;
}
