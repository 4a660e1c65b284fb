/**
 * One page of a list, and the way to the next ones. Every list of the object API returns a
 * `Page<T>`: `items` (this page), `total` (all of them), `hasNext` and `next()`, and
 * `for await (const item of page)` to walk every item of this page and the pages after it.
 *
 * For code written against the official SDK, a page also carries its items under the name the
 * official SDK returns them (`variables`, `files`, `sandboxes`, `services`, …; see
 * {@link KeyedPage}), and reads like an array of its items (`length`, `map`, `filter`, `find`,
 * `forEach`, `some`, `at`, `for … of`), since the official `ports.list()` returns an array.
 *
 * @example
 * const page = await sb.env.list({ limit: 50 });
 * console.log(`${page.items.length} of ${page.total}`);
 * for await (const variable of page) console.log(variable.name); // every page, fetched as needed
 * @module
 */
import { RequestBuildError } from './errors';
import type { RequestOptions } from './http';

/** Paging arguments of every list. */
export interface ListOptions {
  /** Items per page (1..100). @default the server's (20 for most lists) */
  limit?: number;
  /** Items to skip. @default 0 */
  offset?: number;
}

/** Fetches the page that starts at `offset`. */
export type PageFetcher<T> = (page: { limit?: number; offset: number }, opts: RequestOptions) => Promise<{ items: T[]; total: number }>;

/** A {@link Page} whose items are also under the official SDK's name for them (`K`). */
export type KeyedPage<T, K extends string> = Page<T> & { readonly [P in K]: T[] };

export class Page<T> implements Iterable<T>, AsyncIterable<T> {
  /** This page's items. */
  readonly items: T[];
  /** How many items the whole list has (what the server reported when this page was read). */
  readonly total: number;
  /** Where this page starts in the list. */
  readonly offset: number;
  /** The page size asked for; `undefined`: the server's default. */
  readonly limit: number | undefined;
  readonly #fetch: PageFetcher<T>;
  readonly #opts: RequestOptions;
  readonly #key: string | undefined;

  private constructor(data: { items: T[]; total: number }, offset: number, limit: number | undefined, fetch: PageFetcher<T>, opts: RequestOptions, key: string | undefined) {
    this.items = data.items;
    this.total = data.total;
    this.offset = offset;
    this.limit = limit;
    this.#fetch = fetch;
    this.#opts = opts;
    this.#key = key;
    if (key !== undefined) Object.defineProperty(this, key, { get: () => this.items, enumerable: true });
  }

  /**
   * @internal Reads the first page. `opts` (signal, requestTimeoutMs) also apply to the pages
   * `next()` and `for await` read later, unless `next()` is given its own.
   */
  static async load<T, K extends string>(fetch: PageFetcher<T>, list: ListOptions & RequestOptions, key: K): Promise<KeyedPage<T, K>>;
  static async load<T>(fetch: PageFetcher<T>, list: ListOptions & RequestOptions): Promise<Page<T>>;
  static async load<T>(fetch: PageFetcher<T>, list: ListOptions & RequestOptions, key?: string): Promise<Page<T>> {
    const { limit, offset = 0, signal, requestTimeoutMs } = list;
    const opts = { signal, requestTimeoutMs };
    return new Page(await fetch({ limit, offset }, opts), offset, limit, fetch, opts, key);
  }

  /** Whether there are items after this page. */
  get hasNext(): boolean {
    return this.items.length > 0 && this.offset + this.items.length < this.total;
  }

  /**
   * Reads the page after this one.
   * @throws RequestBuildError when there is none (check {@link hasNext} first).
   * @example
   * let page = await sb.file.list({ limit: 10 });
   * while (page.hasNext) page = await page.next();
   */
  async next(opts?: RequestOptions): Promise<this> {
    if (!this.hasNext) throw new RequestBuildError(`no page after items ${this.offset}..${this.offset + this.items.length} of ${this.total}: check hasNext first`);
    const offset = this.offset + this.items.length;
    const use = opts ?? this.#opts;
    return new Page(await this.#fetch({ limit: this.limit, offset }, use), offset, this.limit, this.#fetch, use, this.#key) as this;
  }

  /** Every item of this page, then of each page after it, read as the loop gets there. */
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    let page: Page<T> = this;
    yield* page.items;
    while (page.hasNext) {
      page = await page.next();
      yield* page.items;
    }
  }

  /** This page's items. */
  [Symbol.iterator](): Iterator<T> {
    return this.items[Symbol.iterator]();
  }

  /** How many items this page has. */
  get length(): number {
    return this.items.length;
  }

  at(index: number): T | undefined {
    return this.items.at(index);
  }

  map<U>(fn: (item: T, index: number) => U): U[] {
    return this.items.map(fn);
  }

  filter(fn: (item: T, index: number) => unknown): T[] {
    return this.items.filter(fn);
  }

  find(fn: (item: T, index: number) => unknown): T | undefined {
    return this.items.find(fn);
  }

  some(fn: (item: T, index: number) => unknown): boolean {
    return this.items.some(fn);
  }

  forEach(fn: (item: T, index: number) => void): void {
    this.items.forEach(fn);
  }
}

/**
 * @internal A keyed page over a seed-shaped list function that answers `{[key]: T[], total}`.
 */
export function keyedPage<T, K extends string>(
  key: K,
  list: ListOptions & RequestOptions,
  seed: (limit: number | undefined, offset: number, opts: RequestOptions) => Promise<{ [P in K]: T[] } & { total: number }>,
): Promise<KeyedPage<T, K>> {
  return Page.load<T, K>(
    async ({ limit, offset }, opts) => {
      const page = await seed(limit, offset, opts);
      return { items: page[key], total: page.total };
    },
    list,
    key,
  );
}
