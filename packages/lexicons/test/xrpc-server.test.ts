import type { AddressInfo } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import { createServer } from '@atproto/xrpc-server';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLexiconDocs, methods, type SandboxDefs } from '@pocketenv/lexicons';

// @atproto/xrpc-server 0.8 validates with its own bundled @atproto/lexicon 0.4; the server package
// hands it our documents, so they must work there too, over real HTTP.

let http: HttpServer;
let baseUrl: string;
const seenParams: Record<string, unknown>[] = [];

function sandboxView(name: string): SandboxDefs.SandboxView {
  return {
    id: 'sbx_test',
    name,
    provider: 'local',
    baseSandbox: 'debian',
    status: 'INITIALIZING',
    createdAt: new Date().toISOString(),
  };
}

beforeAll(async () => {
  // The cast bridges the two @atproto/lexicon versions' LexiconDoc types (0.6 knows more def kinds
  // than xrpc-server's 0.4); the documents themselves only use kinds both understand.
  const xrpc = createServer(loadLexiconDocs() as unknown as Parameters<typeof createServer>[0]);
  for (const method of methods) {
    xrpc.method(method.nsid, async ({ params, input }) => {
      seenParams.push(params);
      if (method.nsid === 'io.pocketenv.sandbox.createSandbox') {
        const body = input?.body as { name?: string };
        return { encoding: 'application/json', body: sandboxView(body.name ?? 'generated-name-0000') };
      }
      if (method.nsid === 'io.pocketenv.sandbox.getSandboxes') {
        return { encoding: 'application/json', body: { sandboxes: [], total: 0 } };
      }
      return { encoding: 'application/json', body: {} };
    });
  }
  const app = express();
  app.use(xrpc.router);
  http = await new Promise<HttpServer>((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
  baseUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => http?.close((err) => (err ? reject(err) : resolve())));
});

async function post(nsid: string, body: unknown, query = ''): Promise<{ status: number; json: any }> {
  const res = await fetch(`${baseUrl}/xrpc/${nsid}${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

describe('documents under @atproto/xrpc-server 0.8', () => {
  it('creates a sandbox from the Gleam SDK body', async () => {
    const res = await post('io.pocketenv.sandbox.createSandbox', {
      name: 'gleam-box',
      base: 'debian',
      provider: 'local',
      repo: 'https://example.com/o/r',
    });
    expect(res.status).toBe(200);
    expect(res.json.name).toBe('gleam-box');
  });

  it('answers 400 InvalidRequest naming disk for disk 2', async () => {
    const res = await post('io.pocketenv.sandbox.createSandbox', { base: 'debian', disk: 2 });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('InvalidRequest');
    expect(res.json.message).toMatch(/disk/);
  });

  it('accepts {} on a procedure that takes no input, with its id parameter', async () => {
    const res = await post('io.pocketenv.sandbox.stopSandbox', {}, '?id=sbx_test');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({});
  });

  it('accepts an empty body with a JSON content type (the JS SDK\'s stop() and delete())', async () => {
    const res = await fetch(`${baseUrl}/xrpc/io.pocketenv.sandbox.deleteSandbox?id=sbx_test`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
  });

  it('accepts the Gleam SDK Tailscale request (?id= and tailscaleAuthKey)', async () => {
    const res = await post(
      'io.pocketenv.sandbox.putTailscaleAuthKey',
      { tailscaleAuthKey: 'c2VhbGVk', redacted: 'tskey-auth-****abc' },
      '?id=sbx_test',
    );
    expect(res.status).toBe(200);
  });

  it('fills list defaults into query parameters, passes large limits on (the server caps them) and rejects a limit below 1', async () => {
    seenParams.length = 0;
    const ok = await fetch(`${baseUrl}/xrpc/io.pocketenv.sandbox.getSandboxes`);
    expect(ok.status).toBe(200);
    expect(seenParams[0]).toEqual({ limit: 30, offset: 0 });
    const many = await fetch(`${baseUrl}/xrpc/io.pocketenv.sandbox.getSandboxes?limit=500`);
    expect(many.status).toBe(200);
    expect(seenParams[1]).toEqual({ limit: 500, offset: 0 });
    const none = await fetch(`${baseUrl}/xrpc/io.pocketenv.sandbox.getSandboxes?limit=0`);
    expect(none.status).toBe(400);
    expect((await none.json()).message).toMatch(/limit/);
  });
});
