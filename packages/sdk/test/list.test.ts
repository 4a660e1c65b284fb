import { startTestServer } from '@pocketenv/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Client, pocketenv, type SandboxView, sandbox } from '../src/index';

describe('listing and looking up sandboxes', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let client: Client;
  let did: string;
  const created: SandboxView[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    const alice = await server.createActor('alice');
    did = alice.did;
    client = pocketenv.newClient(alice.token, { baseUrl: server.url });
    for (const name of ['list-a', 'list-b', 'list-c']) {
      created.push((await sandbox.create(sandbox.new(client, name, 'debian', 'local'))).data);
    }
  });
  afterAll(async () => {
    await server?.close();
  });

  it('pages through the caller’s sandboxes, newest first, with the total', async () => {
    const first = await sandbox.list(client, 2, 0);
    const second = await sandbox.list(client, 2, 2);
    expect(first.total).toBe(3);
    expect(second.total).toBe(3);
    expect(first.sandboxes.map((s) => s.name)).toEqual(['list-c', 'list-b']);
    expect(second.sandboxes.map((s) => s.name)).toEqual(['list-a']);
    expect((await sandbox.list(client, 2, 3)).sandboxes).toEqual([]);
  });

  it('lists with the server’s default page when no limit is given', async () => {
    const all = await sandbox.list(client);
    expect(all.total).toBe(3);
    expect(all.sandboxes).toHaveLength(3);
  });

  it('lists the same sandboxes through getActorSandboxes for the caller’s DID', async () => {
    const page = await sandbox.getActorSandboxes(client, did, 2, 1);
    expect(page.total).toBe(3);
    expect(page.sandboxes.map((s) => s.name)).toEqual(['list-b', 'list-a']);
    const me = await pocketenv.getProfile(client);
    expect(me).toMatchObject({ did, handle: 'alice' });
  });

  it('gets a sandbox by id and by name', async () => {
    const target = created[1]!;
    const byId = await sandbox.get(client, target.id);
    const byName = await sandbox.get(client, target.name);
    expect(byId).toMatchObject({ id: target.id, name: 'list-b' });
    expect(byName).toMatchObject({ id: target.id, name: 'list-b' });
  });

  it('gets null for a sandbox that does not exist', async () => {
    expect(await sandbox.get(client, 'no-such-sandbox')).toBeNull();
    expect(await sandbox.get(client, 'sbx_doesnotexist0000')).toBeNull();
  });
});
