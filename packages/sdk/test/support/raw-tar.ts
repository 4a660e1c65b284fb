/**
 * A tar writer that writes exactly the bytes it is told to, field by field, so tests can
 * build what no honest tar writes: pax global headers, GNU long-name headers in odd orders,
 * duplicate pax records, non-canonical numbers, unknown type flags. Used by the archive
 * corpus, the inspection unit tests and the differential test against GNU tar.
 */

export const BLOCK = 512;

/** One header block. String fields are written as UTF-8; control characters and NUL go in as they are. */
export interface RawHeader {
  name: string;
  /** The type flag, one character (`'0'`, `'x'`, `'g'`, `'L'`…); `'\0'` is the old regular file. */
  typeflag: string;
  /** A number (written as canonical octal) or the field's raw text. */
  size?: number | string;
  mode?: number | string;
  uid?: number | string;
  gid?: number | string;
  mtime?: number | string;
  linkname?: string;
  /** `ustar` (POSIX, `ustar\0` + `00`), `gnu` (`ustar  \0`), `v7` (zeros), or the 8 raw bytes. */
  magic?: 'ustar' | 'gnu' | 'v7' | string;
  prefix?: string;
  uname?: string;
  gname?: string;
  /** A raw checksum field, instead of the right one. */
  checksum?: string;
}

const MAGICS: Record<string, string> = { ustar: 'ustar\u000000', gnu: 'ustar  \u0000', v7: '\0'.repeat(8) };

function octalField(value: number | string, length: number): string {
  return typeof value === 'string' ? value : `${value.toString(8).padStart(length - 1, '0')}\0`;
}

export function rawHeader(h: RawHeader): Buffer {
  const block = Buffer.alloc(BLOCK);
  const put = (text: string, offset: number, length: number) => {
    if (Buffer.byteLength(text) > length) throw new Error(`${JSON.stringify(text)} does not fit in ${length} bytes`);
    block.write(text, offset, length, 'utf8');
  };
  put(h.name, 0, 100);
  put(octalField(h.mode ?? 0o644, 8), 100, 8);
  put(octalField(h.uid ?? 0, 8), 108, 8);
  put(octalField(h.gid ?? 0, 8), 116, 8);
  put(octalField(h.size ?? 0, 12), 124, 12);
  put(octalField(h.mtime ?? 1_700_000_000, 12), 136, 12);
  put(h.typeflag, 156, 1);
  put(h.linkname ?? '', 157, 100);
  put(MAGICS[h.magic ?? 'ustar'] ?? h.magic!, 257, 8);
  put(h.uname ?? '', 265, 32);
  put(h.gname ?? '', 297, 32);
  put(h.prefix ?? '', 345, 155);
  if (h.checksum !== undefined) {
    put(h.checksum, 148, 8);
  } else {
    put('        ', 148, 8);
    let sum = 0;
    for (const byte of block) sum += byte;
    put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  }
  return block;
}

export function padded(body: Buffer): Buffer {
  const rest = body.length % BLOCK;
  return rest === 0 ? body : Buffer.concat([body, Buffer.alloc(BLOCK - rest)]);
}

/** A header and its padded body; `size` defaults to the body's length. */
export function rawEntry(h: RawHeader, body: Buffer | string = Buffer.alloc(0)): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return Buffer.concat([rawHeader({ size: bytes.length, ...h }), padded(bytes)]);
}

/** One pax record `<len> <key>=<value>\n`, whose length counts itself. */
export function paxRecord(key: string, value: string): Buffer {
  const rest = Buffer.byteLength(` ${key}=${value}\n`);
  let len = rest + 1;
  while (String(len).length + rest !== len) len = String(len).length + rest;
  return Buffer.from(`${len} ${key}=${value}\n`);
}

/** A pax header (`x` by default, `g` for a global one) holding these records, in this order (repeats allowed). */
export function paxEntry(records: Array<[string, string]>, typeflag = 'x'): Buffer {
  const body = Buffer.concat(records.map(([k, v]) => paxRecord(k, v)));
  return rawEntry({ name: typeflag === 'g' ? 'pax_global_header' : 'PaxHeaders/entry', typeflag }, body);
}

/** A GNU long name (`L`) or long link (`K`) header, NUL-terminated as GNU tar writes it. */
export function gnuLongEntry(typeflag: 'L' | 'K', value: string): Buffer {
  return rawEntry({ name: '././@LongLink', typeflag, magic: 'gnu' }, Buffer.from(`${value}\0`));
}

export const file = (name: string, body: Buffer | string = '', extra: Partial<RawHeader> = {}): Buffer => rawEntry({ name, typeflag: '0', ...extra }, body);
export const dir = (name: string, extra: Partial<RawHeader> = {}): Buffer => rawEntry({ name, typeflag: '5', mode: 0o755, ...extra });
export const symlink = (name: string, target: string): Buffer => rawEntry({ name, typeflag: '2', linkname: target, mode: 0o777 });
export const hardlink = (name: string, target: string): Buffer => rawEntry({ name, typeflag: '1', linkname: target });

/** The two zero blocks that end an archive. */
export const END = Buffer.alloc(2 * BLOCK);

/** Concatenates parts and appends the end-of-archive blocks. */
export function tarStream(...parts: Buffer[]): Buffer {
  return Buffer.concat([...parts, END]);
}
