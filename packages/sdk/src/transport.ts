/**
 * One buffered HTTP exchange over `node:http` (`node:https` for https URLs, loaded only then).
 * The XRPC calls use this instead of `fetch`: the first `fetch` of a Node process initialises
 * undici (its llhttp WebAssembly included), about 45 ms of CPU, which every CLI command paid
 * before doing anything; `node:http` costs a few milliseconds. Streaming uploads (copy.ts) keep
 * `fetch`, where that cost is small next to the transfer.
 * @module
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface TransportRequest {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** What a buffered answer gives callers; `headers.get` as on a fetch `Response`. */
export interface TransportResponse {
  status: number;
  statusText: string;
  ok: boolean;
  headers: { get(name: string): string | null };
  text: string;
}

/**
 * Sends the request and reads the whole answer as UTF-8. Rejects with the socket's error
 * (`code` ECONNREFUSED, ENOTFOUND…) or, when `signal` fires, an AbortError.
 */
export async function request(url: URL, req: TransportRequest): Promise<TransportResponse> {
  const client = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  const headers = { ...req.headers };
  if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
  return new Promise((resolve, reject) => {
    const outgoing = client.request(url, { method: req.method, headers, signal: req.signal }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('error', reject);
      incoming.on('end', () => {
        const status = incoming.statusCode ?? 0;
        resolve({
          status,
          statusText: incoming.statusMessage ?? '',
          ok: status >= 200 && status < 300,
          headers: headerReader(incoming.headers),
          text: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    outgoing.on('error', reject);
    outgoing.end(req.body);
  });
}

function headerReader(headers: IncomingHttpHeaders): TransportResponse['headers'] {
  return {
    get(name) {
      const value = headers[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}
