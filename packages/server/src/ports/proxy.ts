/**
 * The preview proxy: HTTP requests and WebSocket upgrades addressed to an exposed port
 * (see preview-url.ts for the two address forms) are forwarded to `<sandbox address>:<port>`.
 *
 * Every request opens its own upstream connection (no pooling): a pooled socket would be
 * one more thing that could outlive the sandbox it was opened to.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { AppContext } from '../context';
import type { UpgradeHandler } from '../features';
import { parsePreviewRequest, type PreviewTarget } from './preview-url';
import { ActivityMeter, isRefusal, resolveUpstream } from './target';

/** How long connecting to the app may take before the proxy answers 504. */
const CONNECT_TIMEOUT_MS = 10_000;

/** Headers that describe one connection, not the request (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function withoutHopByHop(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const listed = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && !listed.has(name)) out[name] = value;
  }
  return out;
}

/** X-Forwarded-* so the app can tell where it is reached from (the Host header is passed unchanged). */
function forwardedHeaders(req: IncomingMessage, target: PreviewTarget): Record<string, string> {
  const tls = (req.socket as { encrypted?: boolean }).encrypted === true;
  const previous = req.headers['x-forwarded-for'];
  const client = req.socket.remoteAddress ?? '';
  const headers: Record<string, string> = {
    'x-forwarded-for': previous ? `${String(previous)}, ${client}` : client,
    'x-forwarded-proto': tls ? 'https' : 'http',
  };
  if (req.headers.host) headers['x-forwarded-host'] = req.headers.host;
  if (target.prefix) headers['x-forwarded-prefix'] = target.prefix;
  return headers;
}

function plainAnswer(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`${message}\n`);
}

export class PreviewProxy {
  private readonly activity: ActivityMeter;

  constructor(private readonly ctx: AppContext) {
    this.activity = new ActivityMeter(ctx);
  }

  /** Express-style handler: serves preview requests, passes everything else to `next`. */
  readonly handle = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const target = parsePreviewRequest(req);
    if (!target) return next();
    if (target.needsSlash) {
      const query = target.forwardPath.slice(1); // forwardPath is '/' + the query, if any
      res.writeHead(308, { location: `${target.prefix}/${query}` });
      res.end();
      return;
    }
    this.forward(req, res, target).catch((err: unknown) => {
      this.ctx.log.warn('preview proxy failed', { err });
      if (!res.headersSent) plainAnswer(res, 502, 'The preview proxy failed.');
      else res.destroy();
    });
  };

  private async forward(req: IncomingMessage, res: ServerResponse, target: PreviewTarget): Promise<void> {
    const upstream = await resolveUpstream(this.ctx, target);
    if (isRefusal(upstream)) return plainAnswer(res, upstream.status, upstream.message);
    this.activity.touch(upstream.sandbox.id);

    const proxied = http.request({
      host: upstream.address,
      port: upstream.port,
      method: req.method,
      path: target.forwardPath,
      headers: { ...withoutHopByHop(req.headers), ...forwardedHeaders(req, target) },
      agent: false,
      timeout: CONNECT_TIMEOUT_MS,
    });
    proxied.on('socket', (socket) => socket.once('connect', () => proxied.setTimeout(0)));
    proxied.on('timeout', () => proxied.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })));
    proxied.on('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, withoutHopByHop(answer.headers));
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    proxied.on('error', (err: NodeJS.ErrnoException) => {
      if (res.headersSent) return res.destroy();
      const timeout = err.code === 'ETIMEDOUT';
      plainAnswer(
        res,
        timeout ? 504 : 502,
        `Nothing answers on port ${upstream.port} in sandbox ${upstream.sandbox.name} (${err.code ?? err.message}). Is the app running and listening on 0.0.0.0:${upstream.port}?`,
      );
    });
    // The client went away before the answer was complete: stop talking to the app too.
    res.on('close', () => {
      if (!res.writableFinished) proxied.destroy();
    });
    req.pipe(proxied);
  }

  /** WebSocket (any HTTP upgrade) to an exposed port: the raw request is replayed upstream, then bytes flow both ways. */
  readonly upgrade: UpgradeHandler = (req, socket, head) => {
    const target = parsePreviewRequest(req);
    if (!target) return false;
    this.tunnel(req, socket, head, target).catch((err: unknown) => {
      this.ctx.log.warn('preview upgrade failed', { err });
      socket.destroy();
    });
    return true;
  };

  private async tunnel(req: IncomingMessage, socket: Duplex, head: Buffer, target: PreviewTarget): Promise<void> {
    socket.on('error', () => socket.destroy());
    if (target.needsSlash) return rejectUpgrade(socket, 404, 'A path-form preview URL needs a slash after the port label.');
    const upstream = await resolveUpstream(this.ctx, target);
    if (isRefusal(upstream)) return rejectUpgrade(socket, upstream.status, upstream.message);
    const sandboxId = upstream.sandbox.id;
    this.activity.touch(sandboxId);

    const app = net.connect({ host: upstream.address, port: upstream.port });
    app.setTimeout(CONNECT_TIMEOUT_MS, () => app.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })));
    let connected = false;
    app.on('error', (err: NodeJS.ErrnoException) => {
      if (connected) return socket.destroy();
      rejectUpgrade(socket, err.code === 'ETIMEDOUT' ? 504 : 502, `Nothing answers on port ${upstream.port} in sandbox ${upstream.sandbox.name} (${err.code ?? err.message}).`);
    });
    app.once('connect', () => {
      connected = true;
      app.setTimeout(0);
      // The request as it came (Upgrade and Connection included: they are the point here),
      // with our X-Forwarded-* in place of the client's.
      const lines = [`${req.method} ${target.forwardPath} HTTP/1.1`];
      const raw = req.rawHeaders;
      for (let i = 0; i + 1 < raw.length; i += 2) {
        if (!/^x-forwarded-(for|host|proto|prefix)$/i.test(raw[i]!)) lines.push(`${raw[i]}: ${raw[i + 1]}`);
      }
      for (const [name, value] of Object.entries(forwardedHeaders(req, target))) lines.push(`${name}: ${value}`);
      app.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) app.write(head);
      const meter = () => this.activity.touch(sandboxId);
      socket.on('data', meter);
      app.on('data', meter);
      socket.pipe(app);
      app.pipe(socket);
      app.on('close', () => socket.destroy());
      socket.on('close', () => app.destroy());
    });
  }
}

function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  const reason = http.STATUS_CODES[status] ?? 'Error';
  const body = `${message}\n`;
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
