/**
 * Exposed ports and the preview proxy, through a real server and real sandboxes: a preview
 * URL — host form, `http://<port>-<token>.localhost:<server port>/`, by default — reaches an app
 * in the sandbox over HTTP and WebSocket; unexposing kills the URL; ports survive stop/start;
 * the proxy only ever reaches the sandbox the token belongs to; another actor gets 404
 * everywhere. What crosses the proxy, timeouts and the path form: safety/preview-origin.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { fetchPreview, localhostLookup, startTestServer, type TestServer } from '../src/testing';
import { Api, expectOk, startPreviewApp } from './helpers';

let server: TestServer;
let api: Api;
let box: any;

async function expose(sandboxId: string, port: number, description?: string): Promise<string> {
  return expectOk(await api.procedure('io.pocketenv.sandbox.exposePort', { id: sandboxId }, { port, ...(description ? { description } : {}) })).previewUrl;
}

/** GET through the server on loopback with another Host header (any host, not only *.localhost). */
function getAs(host: string, path = '/'): Promise<Response> {
  return fetchPreview(`${server.url}${path}`, { headers: { host } });
}

const labelOf = (previewUrl: string) => new URL(previewUrl).hostname.split('.')[0]!;

function wsEcho(url: string, message: string, host?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: host ? { host } : {}, lookup: localhostLookup });
    ws.on('open', () => ws.send(message));
    ws.on('message', (data) => {
      resolve(data.toString());
      ws.close();
    });
    ws.on('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

beforeAll(async () => {
  server = await startTestServer();
  api = new Api(server.url, server.ownerToken);
  box = await api.create({ name: 'ports-box' });
  await startPreviewApp(api, box.id, 9000);
});

afterAll(async () => {
  await server?.close();
});

describe('exposePort', () => {
  it('gives a host-form preview URL, its own origin, that reaches the port over HTTP; getExposedPorts lists it', async () => {
    const previewUrl = await expose(box.id, 9000, 'the app');
    expect(previewUrl).toMatch(new RegExp(`^http://9000-[a-z2-7]{20}\\.localhost:${server.port}/$`));
    expect(new URL(previewUrl).origin).not.toBe(new URL(server.url).origin);

    const answer = await fetchPreview(`${previewUrl}some/page?x=1`);
    expect(answer.status).toBe(200);
    // The app sees its own path and its own Host; there is no prefix.
    expect(await answer.json()).toMatchObject({ path: '/some/page?x=1', host: new URL(previewUrl).host, prefix: null });

    expect(expectOk(await api.query('io.pocketenv.sandbox.getExposedPorts', { id: box.name }))).toEqual({
      // url: the same URL under the name the Go SDK reads
      ports: [{ port: 9000, description: 'the app', previewUrl, url: previewUrl }],
      total: 1,
    });
  });

  it('the app owns every path of its host, the API\'s paths included', async () => {
    const previewUrl = expectOk(await api.query('io.pocketenv.sandbox.getExposedPorts', { id: box.id })).ports[0].previewUrl;
    for (const p of ['/', '/xrpc/io.pocketenv.sandbox.getSandboxes', '/preview/x']) {
      const answer = await fetchPreview(new URL(p, previewUrl));
      expect(answer.status).toBe(200);
      expect(await answer.json()).toMatchObject({ path: p, host: new URL(previewUrl).host });
    }
  });

  it('claims exactly `<port>-<token>.localhost` hosts (any case, any port); every other host reaches the API untouched', async () => {
    const previewUrl = expectOk(await api.query('io.pocketenv.sandbox.getExposedPorts', { id: box.id })).ports[0].previewUrl;
    const label = labelOf(previewUrl);
    const claimed = await getAs(`${label.toUpperCase()}.LocalHost:${server.port}`);
    expect(await claimed.json()).toMatchObject({ path: '/' });
    // Another domain, a deeper or altered name, the CLI's terminal hosts: the API answers.
    for (const host of [`${label}.example.test`, `x.${label}.localhost`, `${label}x.localhost`, `${label}.localhost.example.test`, `debian.localhost:${server.port}`, 'localhost']) {
      const answer = await getAs(host);
      expect(answer.status, host).toBe(200);
      expect(await answer.json(), host).toMatchObject({ service: 'pocketenv' });
    }
    expect((await getAs(`debian.localhost:${server.port}`, '/xrpc/io.pocketenv.server.describeServer')).status).toBe(200);
  });

  it('does not serve the path form unless configured: /preview/<label>/ on the API is the API\'s 404', async () => {
    const previewUrl = expectOk(await api.query('io.pocketenv.sandbox.getExposedPorts', { id: box.id })).ports[0].previewUrl;
    const onApi = await fetchPreview(`${server.url}/preview/${labelOf(previewUrl)}/`);
    expect(onApi.status).toBe(404);
    expect(await onApi.text()).not.toContain('"path"');
    await expect(wsEcho(`ws://127.0.0.1:${server.port}/preview/${labelOf(previewUrl)}/`, 'x')).rejects.toThrow('upgrade refused: 404');
  });

  it('carries WebSockets to the port', async () => {
    const previewUrl = expectOk(await api.query('io.pocketenv.sandbox.getExposedPorts', { id: box.id })).ports[0].previewUrl;
    expect(await wsEcho(`${previewUrl.replace(/^http/, 'ws')}chat`, 'hello')).toBe('echo:/chat:hello');
    expect(await wsEcho(`ws://127.0.0.1:${server.port}/live`, 'hi there', new URL(previewUrl).host)).toBe('echo:/live:hi there');
  });

  it('refuses a second expose of the same port (409) and ports outside 1025..65535 (400)', async () => {
    const again = await api.procedure('io.pocketenv.sandbox.exposePort', { id: box.id }, { port: 9000 });
    expect(again).toMatchObject({ status: 409, body: { error: 'Conflict' } });
    for (const port of [22, 1024, 65536]) {
      const bad = await api.procedure('io.pocketenv.sandbox.exposePort', { id: box.id }, { port });
      expect(bad).toMatchObject({ status: 400, body: { error: 'InvalidRequest' } });
    }
  });
});

describe('what the proxy will not reach', () => {
  it('a port that is not exposed, even when something listens on it', async () => {
    await startPreviewApp(api, box.id, 9001);
    const valid = expectOk(await api.query('io.pocketenv.sandbox.getExposedPorts', { id: box.id })).ports[0].previewUrl as string;
    const token = labelOf(valid).split('-')[1]!;
    // The token of port 9000 does not open port 9001 (nor any other port).
    for (const port of [9001, 22, 8789]) {
      const answer = await getAs(`${port}-${token}.localhost:${server.port}`);
      expect(answer.status).toBe(404);
      expect(await answer.text()).toContain('No exposed port here');
    }
    expect((await getAs(`9001-${'a'.repeat(20)}.localhost`)).status).toBe(404);
    await expect(wsEcho(`ws://127.0.0.1:${server.port}/`, 'x', `9001-${token}.localhost`)).rejects.toThrow('upgrade refused: 404');
  });

  it('an unexposed port: its URL stops working for good, and a new expose makes a new URL', async () => {
    const first = await expose(box.id, 9001);
    expect((await fetchPreview(first)).status).toBe(200);
    expectOk(await api.procedure('io.pocketenv.sandbox.unexposePort', { id: box.id }, { port: 9001 }));
    expect((await fetchPreview(first)).status).toBe(404);
    await expect(wsEcho(first.replace(/^http/, 'ws'), 'x')).rejects.toThrow('upgrade refused: 404');
    // Unexposing again is not an error.
    expectOk(await api.procedure('io.pocketenv.sandbox.unexposePort', { id: box.id }, { port: 9001 }));

    const second = await expose(box.id, 9001);
    expect(second).not.toBe(first);
    expect((await fetchPreview(second)).status).toBe(200);
    expect((await fetchPreview(first)).status).toBe(404);
  });

  it('an exposed port nothing listens on answers 502', async () => {
    const url = await expose(box.id, 9009);
    const answer = await fetchPreview(url);
    expect(answer.status).toBe(502);
    expect(await answer.text()).toContain('Nothing answers on port 9009');
  });
});

describe('stop and start', () => {
  it('keeps exposed ports: the same URL answers 503 while stopped and reaches the app again after start', async () => {
    const sb = await api.create({ name: 'ports-restart' });
    await startPreviewApp(api, sb.id, 9100);
    const url = await expose(sb.id, 9100);
    expect((await fetchPreview(url)).status).toBe(200);

    await api.stop(sb.id);
    const stopped = await fetchPreview(url);
    expect(stopped.status).toBe(503);
    expect(await stopped.text()).toContain('ports-restart is stopped');

    await api.start(sb.id);
    await startPreviewApp(api, sb.id, 9100); // processes do not survive a stop; the exposed port does
    expect(expectOk(await api.query('io.pocketenv.sandbox.getExposedPorts', { id: sb.id })).ports).toEqual([{ port: 9100, previewUrl: url, url }]);
    expect((await fetchPreview(url)).status).toBe(200);
    await api.delete(sb.id);
    expect((await fetchPreview(url)).status).toBe(404);
  });
});

describe('another actor', () => {
  it('gets 404 from every port method, and the owner’s ports are untouched', async () => {
    const mallory = await server.createActor('mallory-ports');
    const as = api.as(mallory.token);
    for (const key of [box.id, box.name]) {
      const replies = [
        await as.procedure('io.pocketenv.sandbox.exposePort', { id: key }, { port: 9002 }),
        await as.procedure('io.pocketenv.sandbox.unexposePort', { id: key }, { port: 9000 }),
        await as.query('io.pocketenv.sandbox.getExposedPorts', { id: key }),
      ];
      for (const reply of replies) expect(reply).toMatchObject({ status: 404, body: { error: 'SandboxNotFound' } });
    }
    const ports = expectOk(await api.query('io.pocketenv.sandbox.getExposedPorts', { id: box.id })).ports.map((p: any) => p.port);
    expect(ports).toContain(9000);
    expect(ports).not.toContain(9002);
  });
});
