/**
 * Bad-input suite for the routes outside XRPC: the copy store (`POST /cp` uploads and
 * `GET /cp/<uuid>`), the preview proxy (host form on POCKETENV_PREVIEW_URL's domain, and the path
 * form, switched on here with POCKETENV_PREVIEW_PATH), the SSH-style terminal's `POST /ssh/connect`
 * and `DELETE /ssh/disconnect/<session>`, and the WebSocket upgrades of the terminal (ours,
 * `/pty/<id>/ws`, and the official CLI's: `/tty/<id>/ws`, `/v1/sandboxes/<id>/ws/terminal`,
 * `/ssh/<session>/ws`) and streaming exec (`/exec/<id>/ws`). fast-check generates hostile paths, headers, tokens and bodies: truncated
 * and malformed multipart, wrong content types, traversal and NUL bytes, unicode, huge labels.
 * No answer may be a 5xx, a WebSocket is refused with a 44xx close code or a 4xx answer (never
 * 1011), and the server still answers and runs commands afterwards.
 *
 * Runs per route: POCKETENV_FUZZ_RUNS, else 200 with POCKETENV_SAFETY_FULL=1, else 30 (CI).
 */
import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fetchPreview, type TestServer } from '@pocketenv/server/testing';
import { Api, expectOk, startPreviewApp, startTestServerWithEnv } from '../helpers';
import { TRAVERSAL } from './lexicon-arbitrary';
import { countFrom, figure } from './support';

const RUNS = countFrom('POCKETENV_FUZZ_RUNS', 200, 30);
const PREVIEW_DOMAIN = 'preview.fuzz.test';

let server: TestServer;
let api: Api;
let target: { id: string; name: string };
/** The label (`8080-<token>`) of a real exposed port with an app behind it. */
let previewLabel: string;
/** Answers that came from the app (not from the proxy or the API), per preview form. */
const fromApp = { path: 0, host: 0 };
const statusCounts = new Map<string, number>();
const failures: string[] = [];
let sent = 0;

beforeAll(async () => {
  server = await startTestServerWithEnv({ POCKETENV_PREVIEW_URL: `http://*.${PREVIEW_DOMAIN}`, POCKETENV_PREVIEW_PATH: 'on', POCKETENV_EXEC_RATE: '0' }, { log: false });
  api = new Api(server.url, server.ownerToken);
  const s = await api.create({ name: 'fuzz-routes' });
  target = { id: s.id, name: s.name };
  // A real exposed port with an app behind it, so labels near a real one reach the proxy's
  // deeper paths and the real one reaches the app.
  await startPreviewApp(api, s.id, 8080);
  const exposed = expectOk(await api.procedure('io.pocketenv.sandbox.exposePort', { id: s.id }, { port: 8080 }));
  previewLabel = new URL(exposed.previewUrl as string).pathname.split('/')[2]!;
});

afterAll(async () => {
  await server?.close();
  const by = [...statusCounts.entries()].sort().map(([s, n]) => `${s}: ${n}`).join(', ');
  figure('fuzz-routes', `${sent} requests and upgrades to /cp, /cp/<uuid>, previews (${fromApp.path} path-form and ${fromApp.host} host-form answers from the app), /ssh/connect, /ssh/disconnect and the /pty, /tty, /v1/sandboxes/<id>/ws/terminal, /ssh/<session>/ws and /exec sockets; ${failures.length} failures; by answer: ${by}`);
});

let reported = 0;
/** Each test answers for its own requests only: the failures since the last check. */
function expectNoNewFailures(): void {
  const fresh = failures.slice(reported);
  reported = failures.length;
  expect(fresh, fresh.slice(0, 10).join('\n')).toEqual([]);
}

function count(key: string): void {
  statusCounts.set(key, (statusCounts.get(key) ?? 0) + 1);
}

/** One request; returns the answer's text ('' when there was none). */
async function send(what: string, path: string, init: RequestInit & { headers?: Record<string, string> }): Promise<string> {
  sent++;
  let status: number;
  let text = '';
  try {
    // Appended, not resolved: a path starting with // must stay a path, not become a host.
    // fetchPreview sends the Host header as given (fetch would not).
    const url = `${server.url}${path}`;
    const res = init.headers?.host ? await fetchPreview(url, { headers: init.headers, signal: AbortSignal.timeout(30_000) }) : await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
    status = res.status;
    text = await res.text().catch(() => '');
  } catch (err) {
    failures.push(`${what} ${path.slice(0, 200)}: no answer (${(err as Error).message})`);
    return '';
  }
  count(String(status));
  if (status >= 500) failures.push(`${status} ${what} ${path.slice(0, 200)} → ${text.slice(0, 200)}`);
  return text;
}

/** The preview app answers with JSON naming the path it got: the request went all the way through. */
const reachedApp = (text: string) => text.startsWith('{') && text.includes('"path"');

/** Percent-encodes every byte of the UTF-8 form but the unreserved ones (lone surrogates become U+FFFD). */
function pathSafe(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((b) => (/[A-Za-z0-9._~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0').toUpperCase()}`)).join('');
}

/** Path-safe text: hostile but still a URL path segment (fetch would refuse raw control chars). */
const segment = fc.oneof(
  fc.constantFrom(...TRAVERSAL).map(pathSafe),
  fc.string({ maxLength: 80 }).map(pathSafe),
  fc.stringMatching(/^[a-z0-9-]{0,300}$/),
  fc.constantFrom('8080-', `8080-${'a'.repeat(64)}`, '0-x', '65536-abc', '-', 'preview', '%00', '..%2f..%2f'),
);

const bytes = fc.uint8Array({ maxLength: 4096 }).map((a) => Buffer.from(a));

/** Multipart bodies: well framed, truncated, without the file part, with junk inside. */
const multipart = fc.record({ boundary: fc.stringMatching(/^[A-Za-z0-9'()+_,.-]{1,70}$/), content: bytes, shape: fc.integer({ min: 0, max: 4 }) }).map(({ boundary, content, shape }) => {
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.tar.gz"\r\nContent-Type: application/gzip\r\n\r\n`;
  const parts = [
    Buffer.concat([Buffer.from(head), content, Buffer.from(`\r\n--${boundary}--\r\n`)]),
    Buffer.concat([Buffer.from(head), content]), // never closed
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="other"\r\n\r\nx\r\n--${boundary}--\r\n`),
    Buffer.concat([Buffer.from(`--${boundary}\r\n\r\n`), content]),
    content,
  ];
  return { contentType: `multipart/form-data; boundary=${boundary}`, body: parts[shape]! };
});

const upload = fc.oneof(
  multipart,
  fc.record({ contentType: fc.constantFrom('application/json', 'application/gzip', 'multipart/form-data', 'multipart/form-data; boundary=', 'text/plain; charset=x', ''), body: bytes }),
);

it(`POST /cp: hostile uploads answer 4xx, never 5xx (${RUNS} runs)`, async () => {
  for (const { contentType, body } of fc.sample(upload, { numRuns: RUNS })) {
    const headers: Record<string, string> = { authorization: `Bearer ${server.ownerToken}` };
    if (contentType) headers['content-type'] = contentType;
    await send('POST /cp', '/cp', { method: 'POST', headers, body });
  }
  expectNoNewFailures();
}, 300_000);

it(`GET /cp/<uuid>: hostile ids answer 4xx (${RUNS} runs)`, async () => {
  for (const uuid of fc.sample(segment, { numRuns: RUNS })) {
    await send('GET /cp', `/cp/${uuid}`, { headers: { authorization: `Bearer ${server.ownerToken}` } });
  }
  expectNoNewFailures();
}, 300_000);

it(`previews: hostile labels, paths and Host headers answer 4xx (${RUNS} runs each form)`, async () => {
  // The real label reaches the app in both forms: the fuzz below runs against a live proxy.
  expect(reachedApp(await send('GET preview (path form)', `/preview/${previewLabel}/`, {}))).toBe(true);
  expect(reachedApp(await send('GET preview (host form)', '/', { headers: { host: `${previewLabel}.${PREVIEW_DOMAIN}` } }))).toBe(true);
  const near = fc.constantFrom(previewLabel, previewLabel.slice(0, -1), previewLabel.toUpperCase(), `${previewLabel}x`);
  const label = fc.oneof(segment, near);
  for (const [l, rest] of fc.sample(fc.tuple(label, fc.array(segment, { maxLength: 4 })), { numRuns: RUNS })) {
    if (reachedApp(await send('GET preview (path form)', `/preview/${l}/${rest.join('/')}`, {}))) fromApp.path++;
  }
  const hostLabel = fc.oneof(fc.stringMatching(/^[a-z0-9-]{0,63}$/), near);
  const domain = fc.constantFrom(PREVIEW_DOMAIN, PREVIEW_DOMAIN.toUpperCase(), `${PREVIEW_DOMAIN}:80`, 'localhost', `x.${PREVIEW_DOMAIN}`);
  for (const [l, d, rest] of fc.sample(fc.tuple(hostLabel, domain, fc.array(segment, { maxLength: 3 })), { numRuns: RUNS })) {
    // Host header only: the request still goes to our server on loopback.
    if (reachedApp(await send('GET preview (host form)', `/${rest.join('/')}`, { headers: { host: `${l}.${d}` } }))) fromApp.host++;
  }
  expectNoNewFailures();
}, 300_000);

/** One WebSocket attempt: how it ended (a close code or an HTTP status), never hanging. */
function upgrade(path: string, headers: Record<string, string>, firstFrame?: string): Promise<string> {
  sent++;
  return new Promise((resolve) => {
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}${path}`, { headers, handshakeTimeout: 15_000 });
    const timer = setTimeout(() => {
      ws.terminate();
      resolve('timeout');
    }, 20_000);
    const done = (outcome: string) => {
      clearTimeout(timer);
      resolve(outcome);
    };
    ws.on('open', () => {
      if (firstFrame !== undefined) ws.send(firstFrame);
      // A terminal that opened (a valid id with a good token) is closed by us: that is fine.
      setTimeout(() => ws.close(1000), 500);
    });
    ws.on('unexpected-response', (_req, res) => {
      done(`http ${res.statusCode}`);
      ws.terminate();
    });
    ws.on('close', (code) => done(`close ${code}`));
    ws.on('error', () => undefined);
  });
}

/** A socket route: its path for an id, and the query parameter its clients put a token in. */
interface SocketRoute {
  name: string;
  path(id: string): string;
  tokenParam: string;
}

const SOCKET_ROUTES: SocketRoute[] = [
  { name: 'pty', path: (id) => `/pty/${id}/ws`, tokenParam: 'token' },
  { name: 'exec', path: (id) => `/exec/${id}/ws`, tokenParam: 'token' },
  // The official CLI's terminal protocols.
  { name: 'tty', path: (id) => `/tty/${id}/ws`, tokenParam: 'token' },
  { name: 'cloudflare', path: (id) => `/v1/sandboxes/${id}/ws/terminal`, tokenParam: 't' },
  { name: 'ssh', path: (id) => `/ssh/${id}/ws`, tokenParam: 'token' },
];

async function sshSession(): Promise<string> {
  const res = await fetch(`${server.url}/ssh/connect`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.ownerToken}`, 'content-type': 'application/json', 'x-sandbox-id': target.id },
    body: '{"cols":80,"rows":24}',
  });
  return ((await res.json()) as { sessionId: string }).sessionId;
}

it(`terminal and exec upgrades (${SOCKET_ROUTES.map((r) => r.name).join(', ')}): hostile ids, tokens, hosts and first frames are refused cleanly (${RUNS} runs each)`, async () => {
  // Real SSH sessions (each good for one terminal) next to hostile ids, so some runs get past the session check.
  const sessions = [await sshSession(), await sshSession(), await sshSession()];
  const id = fc.oneof(segment, fc.constantFrom(target.id, target.name, ...sessions));
  const token = fc.oneof(fc.constant(server.ownerToken), fc.string({ maxLength: 200 }), fc.constant(''), fc.constantFrom('ptt_', `ptt_${'A'.repeat(43)}`));
  const frame = fc.oneof(fc.string({ maxLength: 300 }), fc.json(), fc.constantFrom('{"type":"start"}', '{"type":"start","command":""}', '{"type":"resize","cols":-1,"rows":1e9}', 'null'));
  // Any host: the terminal routes match on the path only (a preview-looking host goes to the proxy).
  const host = fc.option(fc.oneof(fc.stringMatching(/^[a-z0-9-]{1,63}$/).map((l) => `${l}.localhost`), fc.constant(`8080-${'a'.repeat(20)}.${PREVIEW_DOMAIN}`)), { nil: undefined });
  const extra = fc.string({ maxLength: 60 }).map(pathSafe); // e.g. the Cloudflare CLI's `session=<uuid>`
  for (const route of SOCKET_ROUTES) {
    for (const [i, t, f, viaQuery, h, e] of fc.sample(fc.tuple(id, token, frame, fc.boolean(), host, extra), { numRuns: RUNS })) {
      const headers: Record<string, string> = viaQuery ? {} : { authorization: `Bearer ${t}` };
      if (h) headers.host = h;
      const path = `${route.path(i)}?session=${e}${viaQuery ? `&${route.tokenParam}=${pathSafe(t)}` : ''}`;
      const outcome = await upgrade(path, headers, f);
      count(outcome);
      const fine = /^close (1000|1001|1005|1006|44\d\d)$/.test(outcome) || /^http 4\d\d$/.test(outcome);
      if (!fine) failures.push(`${route.name} ${path.slice(0, 200)} host ${h} first frame ${JSON.stringify(f).slice(0, 100)} → ${outcome}`);
    }
  }
  expectNoNewFailures();
}, 900_000);

it(`/ssh/connect and /ssh/disconnect: hostile sandbox ids, bodies and session ids answer 4xx (${RUNS} runs each)`, async () => {
  const printable = fc.string({ maxLength: 120 }).map((x) => x.replace(/[^\x20-\x7e]/g, ''));
  const sandboxHeader = fc.option(fc.oneof(printable, fc.constantFrom(target.id, target.name, '', ' ', '../..', 'sbx_')), { nil: undefined });
  const body = fc.oneof(
    fc.json().map((j) => ({ contentType: 'application/json', body: Buffer.from(j) })),
    fc.record({ cols: fc.anything(), rows: fc.anything() }).map((o) => ({ contentType: 'application/json', body: Buffer.from(JSON.stringify(o) ?? 'null') })),
    upload,
  );
  for (const [sandboxId, b] of fc.sample(fc.tuple(sandboxHeader, body), { numRuns: RUNS })) {
    const headers: Record<string, string> = { authorization: `Bearer ${server.ownerToken}` };
    if (b.contentType) headers['content-type'] = b.contentType;
    if (sandboxId !== undefined) headers['x-sandbox-id'] = sandboxId;
    await send('POST /ssh/connect', '/ssh/connect', { method: 'POST', headers, body: b.body });
  }
  for (const sessionId of fc.sample(segment, { numRuns: RUNS })) {
    await send('DELETE /ssh/disconnect', `/ssh/disconnect/${sessionId}`, { method: 'DELETE', headers: { authorization: `Bearer ${server.ownerToken}` } });
  }
  expectNoNewFailures();
}, 300_000);

it('still answers afterwards, and the sandbox still runs commands', async () => {
  expect((await api.query('io.pocketenv.server.describeServer')).status).toBe(200);
  expect((await api.exec(target.id, 'echo alive')).stdout).toBe('alive\n');
});
