/**
 * A small streaming reader for the one multipart/form-data shape the copy store accepts:
 * a part named `file` (the archive), possibly next to a few small other fields, which are
 * skipped. The file's bytes go straight to a sink as they arrive, so an upload is never held
 * in memory, and the sink's limit is enforced while reading.
 */
import { InvalidInputError } from '../errors';

/** Where the file part's bytes go; `write` returns false once the sink's limit is crossed. */
export interface PartSink {
  write(chunk: Buffer): boolean;
  drained(): Promise<void>;
}

export interface FilePart {
  filename?: string;
  contentType?: string;
}

export class FilePartTooLargeError extends Error {
  override name = 'FilePartTooLargeError';
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
const MAX_HEADER_BYTES = 16 * 1024;
/** Preamble, epilogue and every part other than `file`, together. */
const MAX_OTHER_BYTES = 64 * 1024;
const MAX_PARTS = 16;

/** The boundary of a multipart/form-data Content-Type; 400 naming `file` otherwise. */
export function multipartBoundary(contentType: string | undefined): string {
  if (!contentType || !/^multipart\/form-data\s*(;|$)/i.test(contentType)) {
    throw new InvalidInputError('file', 'send the archive as multipart/form-data with a part named "file"');
  }
  const match = /;\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) throw new InvalidInputError('file', 'the multipart/form-data Content-Type has no boundary');
  return boundary;
}

/**
 * Reads the multipart body and writes the `file` part into `sink`. Rejects with
 * InvalidInputError for a malformed body or a missing/duplicate `file` part, and with
 * FilePartTooLargeError as soon as the sink refuses a chunk.
 */
export async function readFilePart(body: AsyncIterable<Buffer>, boundary: string, sink: PartSink): Promise<FilePart> {
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  // The first delimiter has no CRLF before it; pretend it has one so every delimiter looks alike.
  let buf: Buffer = CRLF;
  let state: 'preamble' | 'after-delimiter' | 'headers' | 'body' | 'done' = 'preamble';
  let current: 'file' | 'other' | 'none' = 'none';
  let file: FilePart | undefined;
  let otherBytes = 0;
  let parts = 0;

  const emit = async (data: Buffer) => {
    if (data.length === 0) return;
    if (current === 'file') {
      if (!sink.write(data)) throw new FilePartTooLargeError('the file part is over the limit');
      await sink.drained();
    } else if ((otherBytes += data.length) > MAX_OTHER_BYTES) {
      throw malformed('the parts other than "file" are too large');
    }
  };

  for await (const chunk of body) {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    for (;;) {
      if (state === 'preamble' || state === 'body') {
        const at = buf.indexOf(delimiter);
        if (at === -1) {
          // Keep a tail that could be the start of a delimiter split across chunks.
          const safe = buf.length - (delimiter.length - 1);
          if (safe > 0) {
            await emit(buf.subarray(0, safe));
            buf = buf.subarray(safe);
          }
          break;
        }
        await emit(buf.subarray(0, at));
        buf = buf.subarray(at + delimiter.length);
        current = 'none';
        state = 'after-delimiter';
      }
      if (state === 'after-delimiter') {
        if (buf.length < 2) break;
        if (buf[0] === 0x2d && buf[1] === 0x2d) {
          state = 'done';
          break;
        }
        let i = 0;
        while (i < buf.length && (buf[i] === 0x20 || buf[i] === 0x09)) i++; // transport padding
        if (buf.length < i + 2) break;
        if (buf[i] !== 0x0d || buf[i + 1] !== 0x0a) throw malformed('a boundary is not followed by a line break');
        buf = buf.subarray(i + 2);
        state = 'headers';
      }
      if (state === 'headers') {
        const end = buf.indexOf(HEADER_END);
        if (end === -1) {
          if (buf.length > MAX_HEADER_BYTES) throw malformed('part headers are too long');
          break;
        }
        if (++parts > MAX_PARTS) throw malformed('too many parts');
        const headers = parseHeaders(buf.subarray(0, end).toString('latin1'));
        buf = buf.subarray(end + HEADER_END.length);
        const disposition = parseParams(headers.get('content-disposition') ?? '');
        if (disposition.get('name') === 'file') {
          if (file) throw malformed('more than one part is named "file"');
          file = { filename: disposition.get('filename'), contentType: headers.get('content-type') };
          current = 'file';
        } else {
          current = 'other';
        }
        state = 'body';
        continue;
      }
      if (state === 'done') break;
    }
    if (state === 'done') break;
  }
  if (state !== 'done') throw malformed('the multipart body ended before its closing boundary');
  if (!file) throw new InvalidInputError('file', 'the multipart body has no part named "file"');
  return file;
}

function malformed(why: string): InvalidInputError {
  return new InvalidInputError('file', `malformed multipart/form-data body: ${why}`);
}

function parseHeaders(text: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

/** `form-data; name="file"; filename="a.tar.gz"` → {name: 'file', filename: 'a.tar.gz'}. */
function parseParams(value: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const m of value.matchAll(/;\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g)) {
    const raw = m[2]!.trim();
    params.set(m[1]!.toLowerCase(), raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw);
  }
  return params;
}
