/**
 * Previews never share an origin with the API, the dashboard or VS Code, and the proxy treats
 * the app in the sandbox as hostile (issue 18, item 5), through real servers and sandboxes:
 *   - our credentials (bearer and terminal tokens, `pocketenv_…` cookies) never reach the app,
 *     and the client's X-Forwarded-* are replaced by ours; over HTTP and WebSocket;
 *   - the app cannot set our cookies nor cookies for a parent domain (a 40 KB `pocketenv_ide`
 *     included); its own host's cookies pass;
 *   - an app trickling its headers at 1 byte/s gets 504 at the timeout, 50 of them at once,
 *     while the API and other previews keep answering; a preview at its connection limit
 *     answers 503;
 *   - the path form is served only when configured, then sets no cookie at all and never
 *     serves VS Code; bad preview settings stop the server at start.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { fetchPreview, localhostLookup, type TestServer } from '@pocketenv/server/testing';
import { Api, expectOk, startPreviewApp, startTestServerWithEnv, waitFor } from '../helpers';
import { figure } from './support';

const HEADERS_TIMEOUT_S = 20;
const MAX_CONNECTIONS = 50;
const TRICKLERS = 50;

let server: TestServer;
let api: Api;
let box: { id: string; name: string };
let previewUrl: string;
const figures: string[] = [];

beforeAll(async () => {
  server = await startTestServerWithEnv({ POCKETENV_PREVIEW_HEADERS_TIMEOUT: `${HEADERS_TIMEOUT_S}s`, POCKETENV_PREVIEW_MAX_CONNECTIONS: String(MAX_CONNECTIONS) });
  api = new Api(server.url, server.ownerToken);
  box = await api.create({ name: 'preview-origin' });
  await startPreviewApp(api, box.id, 9000);
  previewUrl = expectOk(await api.procedure('io.pocketenv.sandbox.exposePort', { id: box.id }, { port: 9000 })).previewUrl;
});

afterAll(async () => {
  await server?.close();
  figure('preview', figures.join('; '));
});

/** What the app received, as it reports it (fixtures/preview-app.py). */
async function seenByApp(url: string, headers: Record<string, string>): Promise<Record<string, string | null>> {
  const answer = await fetchPreview(url, { headers });
  expect(answer.status).toBe(200);
  return (await answer.json()) as Record<string, string | null>;
}

describe('what reaches the app', () => {
  it('never our tokens (active, revoked or terminal), our cookies, nor the client’s X-Forwarded-*; the app’s own credentials do', async () => {
    const revoked = await server.createActor('revoked-preview');
    await server.revokeToken(revoked.token);
    const terminal = expectOk(await api.query('io.pocketenv.actor.getTerminalToken')).token as string;
    let stripped = 0;
    for (const token of [server.ownerToken, revoked.token, terminal]) {
      expect((await seenByApp(previewUrl, { authorization: `Bearer ${token}` })).authorization).toBeNull();
      stripped++;
    }
    // Another scheme or another bearer token is the app's own business: it gets them.
    for (const authorization of ['Bearer the-apps-own-token', 'Basic dXNlcjpwYXNz']) {
      expect((await seenByApp(previewUrl, { authorization })).authorization).toBe(authorization);
    }

    const seen = await seenByApp(previewUrl, {
      cookie: 'pocketenv_ide=1; app=1; __Host-pocketenv_dash=2; Pocketenv_Other=3; other=2',
      'x-forwarded-for': '203.0.113.9',
      'x-forwarded-host': 'evil.example',
      'x-forwarded-proto': 'https',
      'x-forwarded-prefix': '/evil',
      forwarded: 'for=203.0.113.9',
      'x-real-ip': '203.0.113.9',
    });
    stripped += 3 + 6;
    expect(seen).toMatchObject({
      cookie: 'app=1; other=2',
      host: new URL(previewUrl).host,
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-host': new URL(previewUrl).host,
      'x-forwarded-proto': 'http',
      'x-forwarded-prefix': null,
      forwarded: null,
      'x-real-ip': null,
    });
    // Only our cookies: without them nothing is left, and no Cookie header is sent at all.
    expect((await seenByApp(previewUrl, { cookie: 'pocketenv_ide=1' })).cookie).toBeNull();
    figures.push(`${stripped} credential and spoofed headers stripped, 0 reached the app`);
  });

  it('the same over a WebSocket, whose 101 cannot set our cookies either', async () => {
    const ws = new WebSocket(`${previewUrl.replace(/^http/, 'ws')}socket`, {
      lookup: localhostLookup,
      headers: { authorization: `Bearer ${server.ownerToken}`, cookie: 'pocketenv_ide=1; app=1', 'x-forwarded-for': '203.0.113.9' },
    });
    const setCookies = new Promise<string[]>((resolve) => ws.on('upgrade', (res) => resolve([res.headers['set-cookie'] ?? []].flat())));
    const seen = await new Promise<Record<string, string | null>>((resolve, reject) => {
      ws.on('open', () => ws.send('headers'));
      ws.on('message', (data) => resolve(JSON.parse(data.toString())));
      ws.on('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.on('error', reject);
    });
    ws.close();
    expect(seen).toMatchObject({ path: '/socket', authorization: null, cookie: 'app=1', 'x-forwarded-for': '127.0.0.1' });
    expect(await setCookies).toEqual(['ws_app=1; Path=/']);
  });
});

describe('what comes back from the app', () => {
  it('no cookie of ours (3 KB or 40 KB) nor for a parent domain; the app’s host-only cookies pass', async () => {
    const host = new URL(previewUrl).hostname;
    for (const size of [3_000, 40_000]) {
      const answer = await fetchPreview(`${previewUrl}set-cookies?size=${size}`);
      expect(answer.status).toBe(200);
      // pocketenv_ide, __Host-pocketenv_dash, Pocketenv_Other, Domain=localhost and the
      // preview domain are dropped; what is left is scoped to this preview's host only.
      expect(answer.headers.getSetCookie()).toEqual(['app_session=abc; Path=/; HttpOnly', `own=1; Domain=${host}; Path=/`]);
    }
    figures.push('an app setting a 40 KB pocketenv_ide cookie: dropped, with 4 other cookies of ours or for parent domains, its 2 own kept');
  });

  it(`an app trickling its headers at 1 byte/s: ${TRICKLERS} at once each get 504 at the ${HEADERS_TIMEOUT_S} s timeout, while the API and other previews answer`, async () => {
    await startPreviewApp(api, box.id, 9001);
    const other = expectOk(await api.procedure('io.pocketenv.sandbox.exposePort', { id: box.id }, { port: 9001 })).previewUrl as string;

    const slow = Array.from({ length: TRICKLERS }, () => fetchPreview(`${previewUrl}trickle`).then(async (r) => ({ status: r.status, body: await r.text() })));
    // Every one of them is now held by the app (so each holds one of the preview's connections).
    await waitFor('the app to hold every trickling request', async () => {
      const accepted = Number((await api.exec(box.id, 'cat /tmp/trickle-accepted 2>/dev/null || echo 0')).stdout.trim());
      return accepted >= TRICKLERS ? true : undefined;
    }, HEADERS_TIMEOUT_S * 1000, 200);

    // Meanwhile: this preview is at its limit, and says so at once; the rest of the server is not.
    const full = await fetchPreview(previewUrl);
    expect(full.status).toBe(503);
    expect(full.headers.get('retry-after')).toBe('1');
    expect(await full.text()).toContain('POCKETENV_PREVIEW_MAX_CONNECTIONS');
    let apiAnswers = 0;
    for (let i = 0; i < 5; i++) {
      expect((await api.query('io.pocketenv.server.describeServer')).status).toBe(200);
      expect((await api.exec(box.id, 'echo alive')).stdout).toBe('alive\n');
      expect((await fetchPreview(other)).status).toBe(200);
      apiAnswers += 3;
    }

    const ended = await Promise.all(slow);
    for (const answer of ended) {
      expect(answer.status).toBe(504);
      expect(answer.body).toContain(`did not send its response headers within ${HEADERS_TIMEOUT_S} s`);
    }
    // Their connections are given back.
    expect((await fetchPreview(previewUrl)).status).toBe(200);
    figures.push(
      `${TRICKLERS} apps trickling headers at 1 byte/s: ${ended.filter((a) => a.status === 504).length} × 504 at the ${HEADERS_TIMEOUT_S} s timeout; ` +
        `connection ${MAX_CONNECTIONS + 1} to that preview 503; ${apiAnswers}/${apiAnswers} API, exec and other-preview requests answered meanwhile`,
    );
  }, 180_000);
});

describe('the path form, only when configured (POCKETENV_PREVIEW_PATH=on) and never for browsers’ cookies or VS Code', () => {
  let pathServer: TestServer;
  let pathApi: Api;
  let pathUrl: string;

  beforeAll(async () => {
    pathServer = await startTestServerWithEnv({ POCKETENV_PREVIEW_PATH: 'on', POCKETENV_PREVIEW_URL: 'http://*.preview.example.test' });
    pathApi = new Api(pathServer.url, pathServer.ownerToken);
    const sb = await pathApi.create({ name: 'preview-path' });
    await startPreviewApp(pathApi, sb.id, 9000);
    pathUrl = expectOk(await pathApi.procedure('io.pocketenv.sandbox.exposePort', { id: sb.id }, { port: 9000 })).previewUrl;
  });
  afterAll(async () => {
    await pathServer?.close();
  });

  it('answers path-form URLs on the API’s origin that reach the app, stripped of our credentials, and lets no cookie through', async () => {
    expect(pathUrl).toMatch(new RegExp(`^${pathServer.url}/preview/9000-[a-z2-7]{20}/$`));
    const seen = await seenByApp(`${pathUrl}page`, { authorization: `Bearer ${pathServer.ownerToken}`, cookie: 'pocketenv_ide=1; app=1' });
    expect(seen).toMatchObject({ path: '/page', prefix: new URL(pathUrl).pathname.replace(/\/$/, ''), authorization: null, cookie: 'app=1' });
    const cookies = await fetchPreview(`${pathUrl}set-cookies?size=100`);
    expect(cookies.status).toBe(200);
    expect(cookies.headers.getSetCookie()).toEqual([]);
    // Without the slash after the label, relative links would resolve wrongly: redirected.
    const bare = await fetchPreview(pathUrl.replace(/\/$/, '?q=1'));
    expect(bare.status).toBe(308);
    expect(bare.headers.get('location')).toBe(`${new URL(pathUrl).pathname}?q=1`);
  });

  it('serves the host form on the configured preview domain only', async () => {
    const label = new URL(pathUrl).pathname.split('/')[2]!;
    const onDomain = await fetchPreview(`${pathServer.url}/`, { headers: { host: `${label}.preview.example.test` } });
    expect(await onDomain.json()).toMatchObject({ path: '/', host: `${label}.preview.example.test` });
    const onLocalhost = await fetchPreview(`${pathServer.url}/`, { headers: { host: `${label}.localhost` } });
    expect(await onLocalhost.json()).toMatchObject({ service: 'pocketenv' });
  });

  it('never serves VS Code (port 1024) under /preview/, over HTTP or WebSocket', async () => {
    const vscodePath = `/preview/1024-${'a'.repeat(20)}/`;
    const page = await fetchPreview(`${pathServer.url}${vscodePath}`);
    expect(page.status).toBe(404);
    expect(await page.text()).toContain('VS Code is served only on its own host');
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${pathServer.url.replace(/^http/, 'ws')}${vscodePath}`);
      ws.on('unexpected-response', (_req, res) => (resolve(res.statusCode ?? 0), ws.terminate()));
      ws.on('open', () => (resolve(101), ws.terminate()));
      ws.on('error', () => undefined);
    });
    expect(refused).toBe(404);
  });
});

describe('preview settings', () => {
  it('stop the server at start with a message that says what to change', async () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ POCKETENV_PREVIEW_URL: 'https://pocketenv.example.com' }, /POCKETENV_PREVIEW_URL: must be a wildcard URL.*set POCKETENV_PREVIEW_PATH=https:\/\/pocketenv\.example\.com instead/],
      [{ POCKETENV_PREVIEW_URL: 'http://*.127.0.0.1:8789' }, /not an IP address/],
      [{ POCKETENV_PREVIEW_PATH: 'sometimes' }, /POCKETENV_PREVIEW_PATH: must be off, on, or an origin/],
      [{ POCKETENV_PREVIEW_HEADERS_TIMEOUT: '0' }, /POCKETENV_PREVIEW_HEADERS_TIMEOUT: must be more than 0/],
      [{ POCKETENV_PREVIEW_MAX_CONNECTIONS: '0' }, /POCKETENV_PREVIEW_MAX_CONNECTIONS: "0" is not a whole number of at least 1/],
    ];
    for (const [env, message] of bad) await expect(startTestServerWithEnv(env)).rejects.toThrow(message);
  });
});
