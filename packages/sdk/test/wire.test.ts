import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortedError,
  ApiError,
  DecodeError,
  HttpError,
  NotImplementedError,
  pocketenv,
  ProviderError,
  RateLimitError,
  RequestBuildError,
  sandbox,
  TimeoutError,
} from '../src/index';

/**
 * What the SDK puts on the wire and how it reads answers the real server does not give on
 * demand (429, 502, broken bodies, silence). The peer is a plain HTTP listener on loopback
 * that records each request and answers from a script.
 */
interface Seen {
  method: string;
  url: string;
  authorization?: string;
  body: string;
}
type Reply = (req: IncomingMessage, res: ServerResponse) => void;

describe('the SDK on the wire', () => {
  let peer: Server;
  let base: string;
  let reply: Reply;
  const seen: Seen[] = [];

  beforeAll(async () => {
    peer = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body });
        reply(req, res);
      });
    });
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(peer.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    peer.closeAllConnections();
    await new Promise((resolve) => peer.close(resolve));
  });

  const json = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  };
  const view = { id: 'sbx_1', name: 'box', provider: 'local', baseSandbox: 'debian', status: 'RUNNING', createdAt: '2026-01-01T00:00:00Z' };
  const connected = (baseUrl = base) => sandbox.connect(view, pocketenv.newClient('tok', { baseUrl }));

  it('sends XRPC requests: bearer token, params in the query, JSON body, base path kept', async () => {
    reply = json(200, { stdout: 'x', stderr: '', exitCode: 0 });
    await sandbox.exec(connected(`${base}/prefix/`), 'ls', { cwd: '/tmp', env: { A: '1' } });
    const req = seen.at(-1)!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/prefix/xrpc/io.pocketenv.sandbox.exec?id=sbx_1');
    expect(req.authorization).toBe('Bearer tok');
    expect(JSON.parse(req.body)).toEqual({ command: 'ls', cwd: '/tmp', env: [{ name: 'A', value: '1' }] });

    reply = json(200, { sandboxes: [], total: 0 });
    await sandbox.list(pocketenv.newClient('tok', { baseUrl: base }), 5, 10);
    expect(seen.at(-1)).toMatchObject({ method: 'GET', url: '/xrpc/io.pocketenv.sandbox.getSandboxes?limit=5&offset=10' });

    reply = (_req, res) => res.writeHead(200).end(); // an empty 200 is a fine answer to a mutation
    await sandbox.start(connected(), 'https://example.invalid/r.git');
    expect(JSON.parse(seen.at(-1)!.body)).toEqual({ repo: 'https://example.invalid/r.git' });
  });

  it('maps 429 to RateLimitError with Retry-After', async () => {
    reply = json(429, { error: 'RateLimitExceeded', message: 'slow down' }, { 'retry-after': '7' });
    const error = await sandbox.list(pocketenv.newClient('tok', { baseUrl: base })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, error: 'RateLimitExceeded', message: 'slow down', retryAfter: 7 });
  });

  it('maps 502 to ProviderError and 501 to NotImplementedError', async () => {
    reply = json(502, { error: 'SandboxProviderError', message: 'crun: cannot start' });
    await expect(sandbox.start(connected())).rejects.toSatisfy((e) => e instanceof ProviderError && e.message === 'crun: cannot start');
    reply = json(501, { error: 'MethodNotImplemented', message: 'io.pocketenv.sandbox.exposeVscode is not implemented' });
    await expect(sandbox.exposeVscode(connected())).rejects.toBeInstanceOf(NotImplementedError);
  });

  it('keeps the status of an error page that is not JSON', async () => {
    reply = (_req, res) => res.writeHead(500, { 'content-type': 'text/html' }).end('<h1>oops</h1>');
    const error = await sandbox.stop(connected()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 500, error: 'Http500' });
    expect((error as Error).message).toContain('oops');
  });

  it('raises DecodeError for a 2xx body that is not what the method returns', async () => {
    reply = (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('not json');
    await expect(sandbox.list(pocketenv.newClient('tok', { baseUrl: base }))).rejects.toBeInstanceOf(DecodeError);
    reply = json(200, { stdout: 'x', exitCode: 0 });
    await expect(sandbox.exec(connected(), 'true')).rejects.toThrow(/stderr/);
    reply = json(200, { sandboxes: [{ ...view, runsOn: 7 }], total: 1 });
    await expect(sandbox.list(pocketenv.newClient('tok', { baseUrl: base }))).rejects.toThrow(/runsOn/);
  });

  it('gives up after timeoutMs, and on abort', async () => {
    reply = () => {}; // never answers
    await expect(sandbox.stop(connected(), { timeoutMs: 200 })).rejects.toBeInstanceOf(TimeoutError);
    const controller = new AbortController();
    const pending = sandbox.stop(connected(), { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
  });

  it('reports an unreachable server and an unusable base URL', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await sandbox.list(pocketenv.newClient('tok', { baseUrl: `http://127.0.0.1:${port}` })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect((error as Error).message).toContain('ECONNREFUSED');

    const before = seen.length;
    await expect(sandbox.list(pocketenv.newClient('tok', { baseUrl: 'not a url' }))).rejects.toBeInstanceOf(RequestBuildError);
    expect(seen.length).toBe(before);
  });
});
