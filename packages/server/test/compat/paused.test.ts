/**
 * A paused sandbox (our addition) as the official clients see it, in each client's wire form.
 * They only know INITIALIZING/RUNNING/STOPPED/ERROR and wait for RUNNING (the JS SDK's
 * waitUntilRunning, the CLI's console and ps), so a paused sandbox is RUNNING to them; our own
 * `paused`/`pausedAt` fields are extra fields their decoders ignore. Using it (exec) resumes it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../src/testing';
import { FLAVOURS, WireClient, expectDecodes, ok, type Shape } from './wire';

/** The strictest of the official sandbox decoders (Go's struct with RFC 3339 times, the CLI's required baseSandbox). */
const SANDBOX: Shape = {
  id: 'string',
  name: 'string',
  provider: 'string',
  baseSandbox: 'string',
  status: 'string',
  vcpus: 'number',
  memory: 'number',
  disk: 'number',
  createdAt: 'datetime',
  startedAt: 'datetime?',
  topics: 'array?',
};

let server: TestServer;
let id: string;

beforeAll(async () => {
  server = await startTestServer({ idleTimeoutMs: 0 });
  const ours = new WireClient(server.url, server.ownerToken, FLAVOURS.js);
  id = ok(await ours.post('io.pocketenv.sandbox.createSandbox', {}, { base: 'debian', name: 'compat-paused' })).id;
});

afterAll(async () => server?.close());

describe('a paused sandbox seen by the official clients', () => {
  for (const [flavour, wire] of Object.entries(FLAVOURS)) {
    it(`${flavour}: getSandbox, getSandboxes and getActorSandboxes?isRunning=true decode it as RUNNING, and exec resumes it`, async () => {
      const client = new WireClient(server.url, server.ownerToken, wire);
      const paused = ok(await client.post('io.pocketenv.sandbox.pauseSandbox', { id }));
      expect(paused.paused).toBe(true);

      const one = ok(await client.get('io.pocketenv.sandbox.getSandbox', { id })).sandbox;
      expectDecodes(one, SANDBOX, `${flavour} getSandbox`);
      expect(one.status).toBe('RUNNING');
      const page = ok(await client.get('io.pocketenv.sandbox.getSandboxes', { limit: 100, offset: 0 }));
      const listed = page.sandboxes.find((s: { id: string }) => s.id === id);
      expectDecodes(listed, SANDBOX, `${flavour} getSandboxes`);
      expect(listed.status).toBe('RUNNING');
      // `ps` and the console look for running sandboxes: a paused one is among them.
      const did = ok(await client.get('io.pocketenv.actor.getProfile')).did;
      const running = ok(await client.get('io.pocketenv.actor.getActorSandboxes', { did, isRunning: true, limit: 100, offset: 0 }));
      expect(running.sandboxes.map((s: { id: string }) => s.id)).toContain(id);

      const out = ok(await client.post('io.pocketenv.sandbox.exec', { id }, { command: 'echo awake' }));
      expect(out.stdout).toBe('awake\n');
      expect(ok(await client.get('io.pocketenv.sandbox.getSandbox', { id })).sandbox.paused).toBeUndefined();
    });
  }
});
