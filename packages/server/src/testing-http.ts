/**
 * HTTP for tests the way a browser or curl does it: `*.localhost` resolves to loopback
 * (RFC 6761), which Node's resolver does not do, so host-form preview URLs
 * (`http://3000-<token>.localhost:<port>/`) can be fetched as they are. Redirects are not
 * followed (a test sees each hop) and every request has its own connection.
 */
import dns from 'node:dns';
import http from 'node:http';
import type { LookupFunction } from 'node:net';

/** A `lookup` for http.request / ws: `localhost` and `*.localhost` are 127.0.0.1, the rest as usual. */
export const localhostLookup = ((hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
  if (hostname !== 'localhost' && !hostname.endsWith('.localhost')) return dns.lookup(hostname, options, callback as never);
  if (options.all) return callback(null, [{ address: '127.0.0.1', family: 4 }]);
  callback(null, '127.0.0.1', 4);
}) as unknown as LookupFunction;

export interface PreviewRequestInit {
  method?: string;
  /** Sent as they are; a `host` here overrides the URL's (to address a preview by Host header). */
  headers?: Record<string, string>;
  body?: string | Buffer;
  signal?: AbortSignal;
}

/** Like fetch with `redirect: 'manual'`, resolving `*.localhost`; a preview URL works as is. */
export function fetchPreview(url: string | URL, init: PreviewRequestInit = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers, agent: false, lookup: localhostLookup, signal: init.signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          for (const v of Array.isArray(value) ? value : [value]) if (v !== undefined) headers.append(name, v);
        }
        const status = res.statusCode ?? 0;
        const body = status === 204 || status === 304 ? null : Buffer.concat(chunks);
        resolve(new Response(body, { status, statusText: res.statusMessage, headers }));
      });
    });
    req.on('error', reject);
    req.end(init.body);
  });
}
