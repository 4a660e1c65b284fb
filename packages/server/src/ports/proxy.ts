/**
 * The preview proxy: HTTP requests and WebSocket upgrades addressed to an exposed port
 * (see preview-url.ts for the two address forms) are forwarded to `<sandbox address>:<port>`,
 * with the headers headers.ts lets through in each direction.
 *
 * Every request opens its own upstream connection (no pooling): a pooled socket would be
 * one more thing that could outlive the sandbox it was opened to. The app gets
 * CONNECT_TIMEOUT_MS to accept it and then `headersTimeoutMs` (POCKETENV_PREVIEW_HEADERS_TIMEOUT)
 * to send all its response headers, so an app that trickles them cannot hold connections
 * for ever; each preview has at most `maxConnections` open at once.
 */
import http, { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { AppContext } from '../context';
import { KeyedSlots } from '../limits/keyed-slots';
import type { UpgradeHandler } from '../features';
import { headersForApp, headersFromApp } from './headers';
import type { PreviewConfig } from './preview-config';
import { parsePreviewRequest, type PreviewTarget } from './preview-url';
import { ActivityMeter, isRefusal, resolveUpstream, type Upstream } from './target';

/** How long connecting to the app may take before the proxy answers 504. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Largest response head accepted from an app (Node's default, 16 KiB, is below what real apps send with a few cookies). */
const APP_MAX_HEADER_BYTES = 64 * 1024;

type FailureCode = 'connect-timeout' | 'headers-timeout';

function failure(code: FailureCode): Error {
  return Object.assign(new Error(code), { code });
}

/** What the client is told when the app could not be reached or did not answer in time. */
function upstreamFailure(err: NodeJS.ErrnoException, upstream: Upstream, preview: PreviewConfig): { status: number; message: string } {
  const where = `port ${upstream.port} in sandbox ${upstream.sandbox.name}`;
  if (err.code === 'headers-timeout') {
    return { status: 504, message: `The app on ${where} did not send its response headers within ${preview.headersTimeoutMs / 1000} s (POCKETENV_PREVIEW_HEADERS_TIMEOUT).` };
  }
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    return { status: 502, message: `The app on ${where} sent response headers larger than ${APP_MAX_HEADER_BYTES / 1024} KiB.` };
  }
  return {
    status: err.code === 'connect-timeout' ? 504 : 502,
    message: `Nothing answers on ${where} (${err.code ?? err.message}). Is the app running and listening on 0.0.0.0:${upstream.port}?`,
  };
}

function plainAnswer(res: ServerResponse, status: number, message: string, extra: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...extra });
  res.end(`${message}\n`);
}

export class PreviewProxy {
  private readonly activity: ActivityMeter;
  private readonly preview: PreviewConfig;
  /** Open connections per preview (by port token), at most `maxConnections`. */
  private readonly slots: KeyedSlots;

  constructor(private readonly ctx: AppContext) {
    this.activity = new ActivityMeter(ctx);
    this.preview = ctx.config.preview;
    this.slots = new KeyedSlots(this.preview.maxConnections);
  }

  private busyMessage(): string {
    return `This preview has ${this.slots.max} connections open, its limit (POCKETENV_PREVIEW_MAX_CONNECTIONS); try again when some have finished.`;
  }

  /** Express-style handler: serves preview requests, passes everything else to `next`. */
  readonly handle = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const target = parsePreviewRequest(this.preview, req);
    if (!target) return next();
    if (target.needsSlash) {
      const query = target.forwardPath.slice(1); // forwardPath is '/' + the query, if any
      res.writeHead(308, { location: `${target.prefix}/${query}` });
      res.end();
      return;
    }
    const release = this.slots.take(target.token);
    if (!release) return plainAnswer(res, 503, this.busyMessage(), { 'retry-after': '1' });
    res.once('close', release);
    this.forward(req, res, target).catch((err: unknown) => {
      this.ctx.log.warn('preview proxy failed', { err });
      if (!res.headersSent) plainAnswer(res, 502, 'The preview proxy failed.');
      else res.destroy();
    });
  };

  /** A request to the app, with the connect and response-header deadlines. */
  private requestApp(upstream: Upstream, method: string | undefined, path: string, headers: OutgoingHttpHeaders): http.ClientRequest {
    const proxied = http.request({
      host: upstream.address,
      port: upstream.port,
      method,
      path,
      headers,
      agent: false,
      maxHeaderSize: APP_MAX_HEADER_BYTES,
      timeout: CONNECT_TIMEOUT_MS,
    });
    proxied.on('socket', (socket) => socket.once('connect', () => proxied.setTimeout(0)));
    proxied.on('timeout', () => proxied.destroy(failure('connect-timeout')));
    // The clock starts once the whole request is sent (an upload may take long, and the app
    // rightly waits for it), and stops at the last header: trickling them does not reset it.
    let deadline: NodeJS.Timeout | undefined;
    proxied.on('finish', () => {
      deadline = setTimeout(() => proxied.destroy(failure('headers-timeout')), this.preview.headersTimeoutMs);
    });
    const stop = () => clearTimeout(deadline);
    proxied.on('response', stop);
    proxied.on('upgrade', stop);
    proxied.on('close', stop);
    return proxied;
  }

  private async forward(req: IncomingMessage, res: ServerResponse, target: PreviewTarget): Promise<void> {
    const upstream = await resolveUpstream(this.ctx, target);
    if (isRefusal(upstream)) return plainAnswer(res, upstream.status, upstream.message);
    this.activity.touch(upstream.sandbox.id);
    const headers = await headersForApp(this.ctx, req, target);
    if (res.destroyed) return; // the client left while we looked up its address

    const proxied = this.requestApp(upstream, req.method, target.forwardPath, headers);
    proxied.on('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headersFromApp(answer, target));
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    proxied.on('error', (err: NodeJS.ErrnoException) => {
      if (res.headersSent) return res.destroy();
      const { status, message } = upstreamFailure(err, upstream, this.preview);
      plainAnswer(res, status, message);
    });
    // The client went away before the answer was complete: stop talking to the app too.
    res.on('close', () => {
      if (!res.writableFinished) proxied.destroy();
    });
    req.pipe(proxied);
  }

  /** WebSocket (any HTTP upgrade) to an exposed port: asked of the app like any request, then bytes flow both ways. */
  readonly upgrade: UpgradeHandler = (req, socket, head) => {
    const target = parsePreviewRequest(this.preview, req);
    if (!target) return false;
    socket.on('error', () => socket.destroy());
    if (target.needsSlash) {
      rejectUpgrade(socket, 404, 'A path-form preview URL needs a slash after the port label.');
      return true;
    }
    const release = this.slots.take(target.token);
    if (!release) {
      rejectUpgrade(socket, 503, this.busyMessage());
      return true;
    }
    socket.once('close', release);
    this.tunnel(req, socket, head, target).catch((err: unknown) => {
      this.ctx.log.warn('preview upgrade failed', { err });
      socket.destroy();
    });
    return true;
  };

  private async tunnel(req: IncomingMessage, socket: Duplex, head: Buffer, target: PreviewTarget): Promise<void> {
    const upstream = await resolveUpstream(this.ctx, target);
    if (isRefusal(upstream)) return rejectUpgrade(socket, upstream.status, upstream.message);
    const sandboxId = upstream.sandbox.id;
    this.activity.touch(sandboxId);
    const headers: OutgoingHttpHeaders = await headersForApp(this.ctx, req, target);
    if (socket.destroyed) return;
    // Upgrade and Connection are hop-by-hop, and the point of this request: asked for again.
    headers.connection = 'Upgrade';
    if (req.headers.upgrade) headers.upgrade = req.headers.upgrade;

    const proxied = this.requestApp(upstream, req.method, target.forwardPath, headers);
    let answered = false;
    proxied.on('upgrade', (answer: IncomingMessage, app: Socket, appHead: Buffer) => {
      answered = true;
      const back = headersFromApp(answer, target);
      back.connection = 'Upgrade';
      if (answer.headers.upgrade) back.upgrade = answer.headers.upgrade;
      socket.write(responseHead(answer, back));
      if (appHead.length > 0) socket.write(appHead);
      if (head.length > 0) app.write(head);
      const meter = () => this.activity.touch(sandboxId);
      socket.on('data', meter);
      app.on('data', meter);
      app.on('error', () => app.destroy());
      socket.pipe(app);
      app.pipe(socket);
      app.on('close', () => socket.destroy());
      socket.on('close', () => app.destroy());
    });
    // The app did not switch protocols: its answer goes back as it is, and the connection ends.
    proxied.on('response', (answer) => {
      answered = true;
      const back = headersFromApp(answer, target);
      back.connection = 'close';
      socket.write(responseHead(answer, back));
      answer.pipe(socket);
    });
    proxied.on('error', (err: NodeJS.ErrnoException) => {
      if (answered || socket.destroyed) return socket.destroy();
      const { status, message } = upstreamFailure(err, upstream, this.preview);
      rejectUpgrade(socket, status, message);
    });
    socket.on('close', () => {
      if (!answered) proxied.destroy();
    });
    proxied.end();
  }
}

/** The status line and headers of an answer, for a socket the HTTP server no longer writes to. */
function responseHead(answer: IncomingMessage, headers: OutgoingHttpHeaders): string {
  const lines = [`HTTP/1.1 ${answer.statusCode ?? 502} ${answer.statusMessage ?? ''}`];
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) if (v !== undefined) lines.push(`${name}: ${v}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  const reason = http.STATUS_CODES[status] ?? 'Error';
  const body = `${message}\n`;
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
