/**
 * Exposed ports and the preview proxy, through a real server and real sandboxes: a preview
 * URL reaches an app in the sandbox over HTTP and WebSocket, in the path form and the host
 * form; unexposing kills the URL; ports survive stop/start; the proxy only ever reaches the
 * sandbox the token belongs to; another actor gets 404 everywhere.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from '../src/testing';
import { Api, expectOk, waitFor } from './helpers';

const APP = fs.readFileSync(path.join(import.meta.dirname, 'fixtures', 'preview-app.py')).toString('base64');

let server: TestServer;
let api: Api;
let box: any;

interface Answer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** GET through the server, optionally with another Host header (the host form needs a name Node cannot resolve). */
function get(url: string, host?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { headers: host ? { host } : {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function startApp(sandboxId: string, port: number): Promise<void> {
  const run = await api.exec(sandboxId, `mkdir -p /opt/app && echo ${APP} | base64 -d > /opt/app/app.py && setsid -f python3 /opt/app/app.py ${port} > /dev/null 2>&1`);
  expect(run.exitCode).toBe(0);
  await waitFor(`app on port ${port}`, async () => {
    const probe = await api.exec(sandboxId, `python3 -c "import socket; socket.create_connection(('127.0.0.1', ${port}), 1)" 2>/dev/null && echo up`);
    return probe.stdout.includes('up') ? true : undefined;
  }, 30_000, 100);
}

async function expose(sandboxId: string, port: number, description?: string): Promise<string> {
  return expectOk(await api.procedure('io.pocketenv.sandbox.exposePort', { id: sandboxId }, { port, ...(description ? { description } : {}) })).previewUrl;
}

/** `<port>-<token>.localhost:<server port>`: the Host of the host form for a path-form URL. */
function hostFormHost(previewUrl: string): string {
  const label = new URL(previewUrl).pathname.split('/')[2]!;
  return `${label}.localhost:${server.port}`;
}

function wsEcho(url: string, message: string, host?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: host ? { host } : {} });
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
  await startApp(box.id, 9000);
});

afterAll(async () => {
  await server?.close();
});

afterEach(() => {
  delete process.env.POCKETENV_PREVIEW_URL;
});

describe('exposePort', () => {
  it('gives a preview URL that reaches the port over HTTP, and getExposedPorts lists it', async () => {
    const previewUrl = await expose(box.id, 9000, 'the app');
    expect(previewUrl).toMatch(new RegExp(`^${server.url}/preview/9000-[a-z2-7]{20}/$`));

    const answer = await get(`${previewUrl}some/page?x=1`);
    expect(answer.status).toBe(200);
    const seen = JSON.parse(answer.body);
    // The app sees its own path; the prefix is announced in X-Forwarded-Prefix.
    expect(seen).toMatchObject({ path: '/some/page?x=1', prefix: new URL(previewUrl).pathname.replace(/\/$/, '') });

    expect(expectOk(await api.query('io.pocketenv.sandbox.getExposedPorts', { id: box.name }))).toEqual({
      // url: the same URL under the name the Go SDK reads
      ports: [{ port: 9000, description: 'the app', previewUrl, url: previewUrl }],
      total: 1,
    });
    // Without the slash after the label, relative links would resolve wrongly: redirected.
    const bare = await get(previewUrl.replace(/\/$/, '?q=1'));
    expect(bare).toMatchObject({ status: 308, headers: { location: `${new URL(previewUrl).pathname}?q=1` } });
  });

  it('serves the same port in the host form, where the app owns every path of the host', async () => {
    const previewUrl = expectOk(await api.query('io.pocketenv.sandbox.getExposedPorts', { id: box.id })).ports[0].previewUrl;
    const host = hostFormHost(previewUrl);
    for (const p of ['/', '/xrpc/io.pocketenv.sandbox.getSandboxes', '/preview/x']) {
      const answer = await get(`${server.url}${p}`, host);
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual({ path: p, host, prefix: null });
    }
    // The domain part does not matter (it is only how the name reaches the server); the token does.
    const elsewhere = await get(`${server.url}/`, host.replace('localhost', 'preview.example.test'));
    expect(elsewhere.status).toBe(200);
  });

  it('answers with the host form when POCKETENV_PREVIEW_URL has a wildcard', async () => {
    process.env.POCKETENV_PREVIEW_URL = `http://*.localhost:${server.port}`;
    const { ports } = expectOk(await api.query('io.pocketenv.sandbox.getExposedPorts', { id: box.id }));
    expect(ports[0].previewUrl).toMatch(new RegExp(`^http://9000-[a-z2-7]{20}\\.localhost:${server.port}/$`));
    const answer = await get(`${server.url}/`, new URL(ports[0].previewUrl).host);
    expect(JSON.parse(answer.body)).toMatchObject({ path: '/' });
  });

  it('carries WebSockets to the port, in both forms', async () => {
    const previewUrl = expectOk(await api.query('io.pocketenv.sandbox.getExposedPorts', { id: box.id })).ports[0].previewUrl;
    const wsUrl = previewUrl.replace(/^http/, 'ws');
    expect(await wsEcho(`${wsUrl}chat`, 'hello')).toBe('echo:/chat:hello');
    expect(await wsEcho(`ws://127.0.0.1:${server.port}/live`, 'hi there', hostFormHost(previewUrl))).toBe('echo:/live:hi there');
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
    await startApp(box.id, 9001);
    const valid = expectOk(await api.query('io.pocketenv.sandbox.getExposedPorts', { id: box.id })).ports[0].previewUrl as string;
    const token = new URL(valid).pathname.split('/')[2]!.split('-')[1]!;
    // The token of port 9000 does not open port 9001 (nor any other port).
    for (const port of [9001, 22, 8789]) {
      expect((await get(`${server.url}/preview/${port}-${token}/`)).status).toBe(404);
      expect((await get(`${server.url}/`, `${port}-${token}.localhost`)).status).toBe(404);
    }
    expect((await get(`${server.url}/preview/9001-${'a'.repeat(20)}/`)).status).toBe(404);
    await expect(wsEcho(`ws://127.0.0.1:${server.port}/preview/9001-${token}/`, 'x')).rejects.toThrow('upgrade refused: 404');
  });

  it('an unexposed port: its URL stops working for good, and a new expose makes a new URL', async () => {
    const first = await expose(box.id, 9001);
    expect((await get(first)).status).toBe(200);
    expectOk(await api.procedure('io.pocketenv.sandbox.unexposePort', { id: box.id }, { port: 9001 }));
    expect((await get(first)).status).toBe(404);
    await expect(wsEcho(first.replace(/^http/, 'ws'), 'x')).rejects.toThrow('upgrade refused: 404');
    // Unexposing again is not an error.
    expectOk(await api.procedure('io.pocketenv.sandbox.unexposePort', { id: box.id }, { port: 9001 }));

    const second = await expose(box.id, 9001);
    expect(second).not.toBe(first);
    expect((await get(second)).status).toBe(200);
    expect((await get(first)).status).toBe(404);
  });

  it('an exposed port nothing listens on answers 502', async () => {
    const url = await expose(box.id, 9009);
    const answer = await get(url);
    expect(answer.status).toBe(502);
    expect(answer.body).toContain('Nothing answers on port 9009');
  });
});

describe('stop and start', () => {
  it('keeps exposed ports: the same URL answers 503 while stopped and reaches the app again after start', async () => {
    const sb = await api.create({ name: 'ports-restart' });
    await startApp(sb.id, 9100);
    const url = await expose(sb.id, 9100);
    expect((await get(url)).status).toBe(200);

    await api.stop(sb.id);
    const stopped = await get(url);
    expect(stopped.status).toBe(503);
    expect(stopped.body).toContain('ports-restart is stopped');

    await api.start(sb.id);
    await startApp(sb.id, 9100); // processes do not survive a stop; the exposed port does
    expect(expectOk(await api.query('io.pocketenv.sandbox.getExposedPorts', { id: sb.id })).ports).toEqual([{ port: 9100, previewUrl: url, url }]);
    expect((await get(url)).status).toBe(200);
    await api.delete(sb.id);
    expect((await get(url)).status).toBe(404);
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
