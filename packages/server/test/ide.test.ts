/**
 * Browser VS Code through exposeVscode: code-server (built once per machine into the shared
 * tools dir; the first run builds it) starts inside a plain debian sandbox — no Node in the base —
 * and its preview URL, on a host of its own (`1024-<token>.localhost`), serves the editor to the
 * owner, who signs in with the ticket in the URL and gets a cookie scoped to that host only.
 * Without the ticket or the cookie, nothing reaches code-server; the API's origin never serves it.
 */
import { fetchPreview, localhostLookup, startTestServer } from '@pocketenv/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Api, expectOk, waitFor } from './helpers';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

/** GET without following redirects (as a browser's first hop), optionally with a cookie. */
function get(url: string, cookie?: string): Promise<Response> {
  return fetchPreview(url, { headers: cookie ? { cookie } : {} });
}

describe('VS Code (exposeVscode)', () => {
  let server: TestServer;
  let alice: Api;
  let bob: Api;
  let box: { id: string; name: string };
  let previewUrl: URL;

  beforeAll(async () => {
    server = await startTestServer();
    alice = new Api(server.url, (await server.createActor('alice')).token);
    bob = new Api(server.url, (await server.createActor('bob')).token);
    box = await alice.create({ name: 'ide-box' });
    const expose = () => alice.procedure('io.pocketenv.sandbox.exposeVscode', { id: box.id }, {});
    let reply = await expose();
    if (reply.status === 503) {
      // A machine without code-server: that call started its build (minutes); wait for it.
      const built = async () => expectOk(await alice.query('io.pocketenv.server.describeServer')).tools.find((t: { name: string }) => t.name === 'code-server');
      await waitFor('code-server built', async () => ((await built()).status === 'ready' ? true : undefined), 1_100_000, 5_000);
      reply = await expose();
    }
    previewUrl = new URL(expectOk(reply).previewUrl);
  }, 1_200_000);
  afterAll(async () => {
    await server?.close();
  });

  it('gives the owner the editor on a host of its own: the ticket in the URL becomes a host-only cookie, then the page loads', async () => {
    expect(previewUrl.searchParams.get('pe_ticket')).toMatch(/^\d+\.[A-Za-z0-9_-]{43}$/);
    // Its own origin: not the API's, and (a different label) not any other preview's.
    expect(previewUrl.hostname).toMatch(/^1024-[a-z2-7]{20}\.localhost$/);
    expect(previewUrl.origin).not.toBe(new URL(server.url).origin);
    const signIn = await get(previewUrl.toString());
    expect(signIn.status).toBe(303);
    const location = new URL(signIn.headers.get('location')!, previewUrl);
    expect(location.host).toBe(previewUrl.host);
    expect(location.searchParams.has('pe_ticket')).toBe(false);
    const setCookie = signIn.headers.getSetCookie()[0]!;
    // No Domain attribute: the browser sends it to this host only, never to the API or another preview.
    expect(setCookie).toMatch(/^pocketenv_ide=[^;]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/);
    const cookie = setCookie.split(';')[0]!;

    // code-server may redirect (e.g. to add ?folder=); follow by hand, keeping the cookie.
    let page = await get(location.toString(), cookie);
    for (let hops = 0; page.status >= 300 && page.status < 400 && hops < 5; hops++) {
      page = await get(new URL(page.headers.get('location')!, location).toString(), cookie);
    }
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toMatch(/code-server/i);
    expect(html).toMatch(/workbench/i);

    // The exposed port shows up like any other (its URL alone does not let anyone in).
    const ports = expectOk(await alice.query('io.pocketenv.sandbox.getExposedPorts', { id: box.id })).ports;
    expect(ports).toContainEqual(expect.objectContaining({ port: 1024, description: 'VS Code Server' }));
  });

  it('refuses everyone without the ticket or the cookie, and nobody else can ask for one', async () => {
    const bare = new URL(previewUrl);
    bare.search = '';
    const noTicket = await get(bare.toString());
    expect(noTicket.status).toBe(401);
    expect(await noTicket.text()).toMatch(/private/);

    const forged = new URL(bare);
    forged.searchParams.set('pe_ticket', `${Date.now() + 60_000}.${'A'.repeat(43)}`);
    expect((await get(forged.toString())).status).toBe(401);
    expect((await get(bare.toString(), 'pocketenv_ide=1.x')).status).toBe(401);

    // The API's origin never serves it, cookie or not.
    const onApi = await fetchPreview(`${server.url}/preview/${previewUrl.hostname.split('.')[0]}/`, { headers: { cookie: 'pocketenv_ide=1.x' } });
    expect(onApi.status).toBe(404);

    // code-server's WebSocket (what the editor runs on) is gated the same way.
    const ws = new WebSocket(bare.toString().replace(/^http/, 'ws'), { lookup: localhostLookup });
    const refused = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    ws.terminate();
    expect(refused).toBe(401);

    // Bob cannot get a ticket for Alice's sandbox.
    const bobs = await bob.procedure('io.pocketenv.sandbox.exposeVscode', { id: box.id }, {});
    expect(bobs.status).toBe(404);
    expect(bobs.body.error).toBe('SandboxNotFound');
  });

  it('asking again reuses the running code-server and the same preview, with a fresh ticket', async () => {
    const again = new URL(expectOk(await alice.procedure('io.pocketenv.sandbox.exposeVscode', { id: box.name }, {})).previewUrl);
    expect(again.host).toBe(previewUrl.host);
    expect((await get(again.toString())).status).toBe(303);
    const count = await alice.exec(box.id, 'ps -eo args= | grep -c "[c]ode-server/out/node/entry.js"');
    expect(count.stdout.trim()).toBe('1');
  });
});
