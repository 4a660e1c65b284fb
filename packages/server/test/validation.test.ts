/**
 * Input errors: each is a 4xx whose message names the offending field, and none creates a
 * sandbox. Also the transport edges: oversized bodies (413), invalid JSON, wrong encodings.
 */
import sodium from 'libsodium-wrappers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../src/testing';
import { Api, expectOk, startTestServerWithEnv } from './helpers';

let server: TestServer;
let api: Api;

beforeAll(async () => {
  server = await startTestServerWithEnv({ POCKETENV_DOCKER: 'off' }); // the accepted providers below are local's alone
  api = new Api(server.url, server.ownerToken);
});

afterAll(async () => {
  // None of the requests below may have left a sandbox behind.
  if (api) expect(expectOk(await api.query('io.pocketenv.sandbox.getSandboxes')).total).toBe(0);
  await server?.close();
});

async function expectInvalid(reply: Promise<{ status: number; body: any }>, field: string | RegExp, status = 400) {
  const { status: got, body } = await reply;
  expect({ got, error: body?.error }).toEqual({ got: status, error: status === 413 ? 'PayloadTooLarge' : 'InvalidRequest' });
  expect(body.message).toMatch(field);
  return body.message as string;
}

const create = (body: unknown) => api.procedure('io.pocketenv.sandbox.createSandbox', undefined, body);

describe('list parameters', () => {
  it('rejects a negative or zero limit and a negative offset, naming them; a limit above 100 is served as 100', async () => {
    await expectInvalid(api.query('io.pocketenv.sandbox.getSandboxes', { limit: -1 }), /limit/);
    await expectInvalid(api.query('io.pocketenv.sandbox.getSandboxes', { limit: 0 }), /limit/);
    expect(expectOk(await api.query('io.pocketenv.sandbox.getSandboxes', { limit: 101 }))).toEqual({ sandboxes: [], total: 0 });
    await expectInvalid(api.query('io.pocketenv.sandbox.getSandboxes', { offset: -5 }), /offset/);
    await expectInvalid(api.query('io.pocketenv.actor.getActorSandboxes', { did: 'owner', limit: -1 }), /limit/);
  });

  it('requires the id of getSandbox', async () => {
    await expectInvalid(api.query('io.pocketenv.sandbox.getSandbox'), /id/);
  });
});

describe('createSandbox input', () => {
  it('requires base', async () => {
    await expectInvalid(create({ name: 'no-base' }), /base/);
  });

  it('rejects disk below 3 GiB', async () => {
    await expectInvalid(create({ base: 'debian', disk: 2 }), /disk/);
  });

  it('rejects resources the host cannot give', async () => {
    await expectInvalid(create({ base: 'debian', vcpus: 4096 }), /vcpus/);
    await expectInvalid(create({ base: 'debian', memory: 1_000_000 }), /memory 1000000 \(read as MiB: 977 GiB\) is more than this server's \d+ GiB/);
    await expectInvalid(create({ base: 'debian', memory: 1023 }), /memory 1023 GiB is more than this server's \d+ GiB: ask for at most \d+ \(memory is in GiB: 4 means 4 GiB\)/);
    await expectInvalid(create({ base: 'debian', vcpus: 0 }), /vcpus/);
  });

  it('rejects an unknown base and lists the available ones', async () => {
    const message = await expectInvalid(create({ base: 'no-such-base' }), /base/);
    expect(message).toContain('debian');
  });

  it('accepts a template AT-URI but still checks the name in it', async () => {
    const message = await expectInvalid(create({ base: 'at://did:plc:aturpi2ls3yvsmhc6wybomun/io.pocketenv.sandbox/no-such-base' }), /base/);
    expect(message).toContain('no-such-base');
  });

  it('rejects an unknown provider and lists every accepted name, the hosted ones included', async () => {
    const message = await expectInvalid(create({ base: 'debian', provider: 'nope' }), /provider/);
    expect(message).toBe('provider: unknown provider "nope"; accepted: local, cloudflare, daytona, deno, vercel, sprites, modal, e2b, hopx, runloop, blaxel');
  });

  it('rejects names that are not hostnames, suggesting one that is', async () => {
    for (const name of ['Upper', 'under_score', '-lead', 'a'.repeat(64), 'sbx_x']) {
      await expectInvalid(create({ base: 'debian', name }), /name/);
    }
    const message = await expectInvalid(create({ base: 'debian', name: 'My_Box' }), /name/);
    expect(message).toContain('e.g. "my-box"');
  });

  // envs and secrets work at creation now (config-attachments.test.ts); bad ones are still refused.
  it('refuses an invalid variable name and a secret sealed to another key', async () => {
    const message = await expectInvalid(create({ base: 'debian', envs: [{ name: 'NOT A NAME', value: 'b' }] }), /envs/);
    expect(message).toContain('e.g. "NOT_A_NAME"');
    await sodium.ready;
    const otherKey = sodium.crypto_box_keypair().publicKey;
    const sealedElsewhere = sodium.to_base64(sodium.crypto_box_seal('b', otherKey), sodium.base64_variants.URLSAFE_NO_PADDING);
    await expectInvalid(create({ base: 'debian', secrets: [{ name: 'A', value: sealedElsewhere }] }), /secrets\[0\]\.value: is a sealed box for another key/);
  });

  it('rejects a wrongly typed field', async () => {
    await expectInvalid(create({ base: 'debian', keepAlive: 'yes' }), /keepAlive/);
    await expectInvalid(create({ base: 'debian', topics: 'not-a-list' }), /topics/);
  });
});

describe('transport', () => {
  it('answers 413 PayloadTooLarge for an oversized body', async () => {
    const big = JSON.stringify({ base: 'debian', description: 'x'.repeat(2 * 1024 * 1024) });
    await expectInvalid(api.call('io.pocketenv.sandbox.createSandbox', 'POST', { rawBody: big }), /too large/, 413);
    const bigExec = JSON.stringify({ command: 'x'.repeat(2 * 1024 * 1024) });
    await expectInvalid(api.call('io.pocketenv.sandbox.exec', 'POST', { params: { id: 'x' }, rawBody: bigExec }), /too large/, 413);
  });

  it('answers 400 for invalid JSON', async () => {
    await expectInvalid(api.call('io.pocketenv.sandbox.createSandbox', 'POST', { rawBody: '{"base": "debian",' }), /JSON/);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const reply = await api.call('io.pocketenv.sandbox.createSandbox', 'POST', { rawBody: 'base=debian', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(reply.status).toBe(400);
    expect(reply.body.error).toBe('InvalidRequest');
  });

  it('names the field for exec input errors', async () => {
    await expectInvalid(api.procedure('io.pocketenv.sandbox.exec', { id: 'x' }, {}), /command/);
    await expectInvalid(api.procedure('io.pocketenv.sandbox.exec', { id: 'x' }, { command: 'true', timeoutMs: -1 }), /timeoutMs/);
  });
});
