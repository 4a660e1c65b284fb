import { startTestServer } from '@pocketenv/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Client, ConflictError, InvalidRequestError, pocketenv, sandbox } from '../src/index';

/** The rejection of `call`, which must be an InvalidRequestError (400) whose message names `field`. */
async function expectInvalid(call: Promise<unknown>, field: RegExp): Promise<void> {
  const error = await call.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(InvalidRequestError);
  expect(error).toMatchObject({ status: 400 });
  expect((error as Error).message).toMatch(field);
}

// Every input error is a 4xx that names the field, surfaced as a typed error.
describe('input errors through the SDK', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let client: Client;

  beforeAll(async () => {
    server = await startTestServer();
    client = pocketenv.newClient((await server.createActor('alice')).token, { baseUrl: server.url });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('names the base and the bases there are', async () => {
    const error = await sandbox.create(sandbox.new(client, undefined, 'no-such-base', 'local')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as Error).message).toMatch(/base/);
    expect((error as Error).message).toMatch(/debian/);
  });

  it('names the provider and the providers there are', async () => {
    const error = await sandbox.create(sandbox.new(client, undefined, 'debian', 'no-such-provider')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as Error).message).toMatch(/provider/);
    expect((error as Error).message).toMatch(/local/);
  });

  it('names a bad sandbox name, disk size and page bounds', async () => {
    await expectInvalid(sandbox.create(sandbox.new(client, 'Not A Valid Name!', 'debian', 'local')), /name/);
    await expectInvalid(sandbox.create(sandbox.withDisk(sandbox.new(client, undefined, 'debian', 'local'), 1)), /disk/);
    await expectInvalid(sandbox.list(client, 0, 0), /limit/);
    // Above 100 is served as 100 (official clients ask for more), not refused.
    await expect(sandbox.list(client, 101, 0)).resolves.toMatchObject({ total: expect.any(Number) });
    await expectInvalid(sandbox.list(client, 10, -1), /offset/);
  });

  it('refuses a name that is taken with a 409', async () => {
    await sandbox.create(sandbox.new(client, 'taken', 'debian', 'local'));
    const error = await sandbox.create(sandbox.new(client, 'taken', 'debian', 'local')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ status: 409 });
    expect((error as Error).message).toMatch(/taken/);
  });

  it('refuses to exec in a sandbox that is not running', async () => {
    const sb = await sandbox.create(sandbox.new(client, 'stopped-one', 'debian', 'local'));
    await sandbox.stop(sb);
    await expectInvalid(sandbox.exec(sb, 'echo hi'), /running/i);
  });
});
