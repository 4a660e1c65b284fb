/**
 * Identity and ownership: tokens (missing, garbage, revoked), one actor never seeing or
 * touching another's sandbox, unknown methods, and the owner bootstrap (token.json, keys,
 * permissions).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing';
import { Api, expectOk } from './helpers';

let server: TestServer;
let owner: Api;
let sandbox: any;

/** Every method of this issue that takes a sandbox id, as (nsid, kind, params, body). */
const sandboxMethods = (id: string): Array<[string, 'GET' | 'POST', Record<string, string>, unknown]> => [
  ['io.pocketenv.sandbox.startSandbox', 'POST', { id }, {}],
  ['io.pocketenv.sandbox.stopSandbox', 'POST', { id }, {}],
  ['io.pocketenv.sandbox.deleteSandbox', 'POST', { id }, {}],
  ['io.pocketenv.sandbox.exec', 'POST', { id }, { command: 'echo pwned > /workspace/pwned' }],
  ['io.pocketenv.sandbox.claimSandbox', 'POST', { id }, {}],
  ['io.pocketenv.sandbox.getPreferences', 'GET', { id }, undefined],
  ['io.pocketenv.sandbox.putPreferences', 'POST', {}, { sandboxId: id, preferences: [{ $type: 'io.pocketenv.sandbox.defs#sandboxDetailsPref', name: 'stolen' }] }],
];

const authedMethods: Array<[string, 'GET' | 'POST', Record<string, string>, unknown]> = [
  ['io.pocketenv.actor.getProfile', 'GET', {}, undefined],
  ['io.pocketenv.actor.getActorSandboxes', 'GET', { did: 'did:web:localhost:u:owner' }, undefined],
  ['io.pocketenv.sandbox.getSandbox', 'GET', { id: 'x' }, undefined],
  ['io.pocketenv.sandbox.getSandboxes', 'GET', {}, undefined],
  ['io.pocketenv.sandbox.createSandbox', 'POST', {}, { base: 'debian' }],
  ...sandboxMethods('x'),
];

beforeAll(async () => {
  server = await startTestServer();
  owner = new Api(server.url, server.ownerToken);
  sandbox = await owner.create({ name: 'owned-by-owner' });
});

afterAll(async () => {
  await server?.close();
});

describe('another actor', () => {
  it('sees none of the owner’s sandboxes and gets 404 on each method', async () => {
    const mallory = await server.createActor('mallory');
    const api = owner.as(mallory.token);

    for (const key of [sandbox.id, sandbox.name]) {
      expect(expectOk(await api.query('io.pocketenv.sandbox.getSandbox', { id: key }))).toEqual({ sandbox: null });
      for (const [nsid, method, params, body] of sandboxMethods(key)) {
        const reply = await api.call(nsid, method, { params, body });
        expect({ nsid, status: reply.status, error: reply.body?.error }).toEqual({ nsid, status: 404, error: 'SandboxNotFound' });
      }
    }
    expect(expectOk(await api.query('io.pocketenv.sandbox.getSandboxes'))).toEqual({ sandboxes: [], total: 0 });
    const ownerDid = 'did:web:localhost:u:owner';
    expect(expectOk(await api.query('io.pocketenv.actor.getActorSandboxes', { did: ownerDid }))).toEqual({ sandboxes: [], total: 0 });
    expect(expectOk(await api.query('io.pocketenv.actor.getActorSandboxes', { did: 'owner' }))).toEqual({ sandboxes: [], total: 0 });

    // …and nothing happened to the sandbox
    const after = await owner.get(sandbox.id);
    expect(after).toMatchObject({ name: 'owned-by-owner', status: 'RUNNING' });
    expect((await owner.exec(sandbox.id, 'test -e /workspace/pwned; echo $?')).stdout).toBe('1\n');
    expect(expectOk(await owner.query('io.pocketenv.actor.getActorSandboxes', { did: ownerDid })).total).toBe(1);
  });

  it('names are per owner: another actor may use the same name, and it names their own sandbox', async () => {
    const eve = await server.createActor('eve');
    const mine = expectOk(await owner.query('io.pocketenv.sandbox.getSandbox', { id: 'owned-by-owner' })).sandbox;
    const theirs = expectOk(await owner.as(eve.token).procedure('io.pocketenv.sandbox.createSandbox', undefined, { base: 'debian', name: 'owned-by-owner' }));
    expect(theirs.id).not.toBe(mine.id);
    expect(expectOk(await owner.as(eve.token).query('io.pocketenv.sandbox.getSandbox', { id: 'owned-by-owner' })).sandbox.id).toBe(theirs.id);
    expect(expectOk(await owner.query('io.pocketenv.sandbox.getSandbox', { id: 'owned-by-owner' })).sandbox.id).toBe(mine.id);
  });
});

describe('tokens', () => {
  it('answers 401 AuthenticationRequired without a token, on every method that needs one', async () => {
    for (const [nsid, method, params, body] of authedMethods) {
      const reply = await owner.call(nsid, method, { params, body, token: null });
      expect({ nsid, status: reply.status, error: reply.body?.error }).toEqual({ nsid, status: 401, error: 'AuthenticationRequired' });
    }
  });

  it('answers 401 for garbage tokens (never 500)', async () => {
    const garbage = ['garbage', 'a'.repeat(5000), 'eyJhbGciOiJIUzI1NiJ9.eyJkaWQiOiJ4In0.sig', server.ownerToken + 'x'];
    for (const token of garbage) {
      for (const [nsid, method, params, body] of authedMethods.slice(0, 4)) {
        const reply = await owner.call(nsid, method, { params, body, token });
        expect({ nsid, status: reply.status, error: reply.body?.error }).toEqual({ nsid, status: 401, error: 'AuthenticationRequired' });
      }
    }
    const malformed = await owner.call('io.pocketenv.sandbox.getSandboxes', 'GET', { token: null, headers: { authorization: 'Basic Zm9vOmJhcg==' } });
    expect(malformed.status).toBe(401);
  });

  it('stops accepting a revoked token', async () => {
    const temp = await server.createActor('short-lived');
    const api = owner.as(temp.token);
    expect((await api.query('io.pocketenv.sandbox.getSandboxes')).status).toBe(200);
    expect(await server.revokeToken(temp.token)).toBe(true);
    const reply = await api.query('io.pocketenv.sandbox.getSandboxes');
    expect(reply.status).toBe(401);
    expect(reply.body.error).toBe('AuthenticationRequired');
    // other tokens of the same actor keep working
    const second = await server.createActor('short-lived');
    expect(second.did).toBe(temp.did);
    expect((await owner.as(second.token).query('io.pocketenv.sandbox.getSandboxes')).status).toBe(200);
  });
});

describe('methods and verbs', () => {
  it('answers 501 MethodNotImplemented for an unknown NSID', async () => {
    for (const method of ['GET', 'POST'] as const) {
      const reply = await owner.call('io.pocketenv.sandbox.doesNotExist', method);
      expect(reply.status).toBe(501);
      expect(reply.body.error).toBe('MethodNotImplemented');
    }
  });

  it('answers 400 for the wrong HTTP verb', async () => {
    const get = await owner.call('io.pocketenv.sandbox.createSandbox', 'GET');
    expect(get.status).toBe(400);
    expect(get.body.error).toBe('InvalidRequest');
    const post = await owner.call('io.pocketenv.sandbox.getSandboxes', 'POST', { body: {} });
    expect(post.status).toBe(400);
  });

  it('answers JSON 404 outside XRPC', async () => {
    const res = await fetch(new URL('/nothing-here', server.url));
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: 'NotFound' });
  });
});

describe('owner bootstrap', () => {
  it('writes token.json once, 0600, keeps keys 0600 and the data dir 0700', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-boot-'));
    try {
      const first = await startTestServer({ dataDir });
      const tokenFile = path.join(dataDir, 'token.json');
      const written = JSON.parse(await fs.readFile(tokenFile, 'utf8'));
      expect(written).toEqual({ token: first.ownerToken });
      expect((await fs.stat(tokenFile)).mode & 0o777).toBe(0o600);
      expect((await fs.stat(path.join(dataDir, 'keys', 'box.json'))).mode & 0o777).toBe(0o600);
      expect((await fs.stat(dataDir)).mode & 0o777).toBe(0o700);
      const key = expectOk(await new Api(first.url).query('io.pocketenv.server.describeServer')).publicKey;
      expect(expectOk(await new Api(first.url, first.ownerToken).query('io.pocketenv.actor.getProfile')).handle).toBe('owner');
      await first.close();

      const second = await startTestServer({ dataDir });
      expect(await fs.readFile(tokenFile, 'utf8')).toBe(JSON.stringify(written) + '\n');
      expect(second.ownerToken).toBe(first.ownerToken);
      expect(expectOk(await new Api(second.url).query('io.pocketenv.server.describeServer')).publicKey).toBe(key);
      await second.close();
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });

  it('leaves a token.json it does not know untouched and still gives the owner a working token', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-boot-'));
    try {
      const foreign = JSON.stringify({ token: 'hosted-service-token' });
      await fs.writeFile(path.join(dataDir, 'token.json'), foreign, { mode: 0o600 });
      const s = await startTestServer({ dataDir });
      expect(await fs.readFile(path.join(dataDir, 'token.json'), 'utf8')).toBe(foreign);
      expect(s.ownerToken).not.toBe('hosted-service-token');
      expect(expectOk(await new Api(s.url, s.ownerToken).query('io.pocketenv.actor.getProfile')).handle).toBe('owner');
      await s.close();
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});
