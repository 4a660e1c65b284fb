/**
 * The DATABASE_URL path: the same server on PostgreSQL instead of SQLite. `scripts/test`
 * starts a local PostgreSQL (scripts/postgres.sh) and passes its admin URL in
 * POCKETENV_TEST_DATABASE_URL; this file makes a database of its own and drops it after.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing';
import { Api, expectOk } from './helpers';

const adminUrl = process.env.POCKETENV_TEST_DATABASE_URL;
if (!adminUrl) {
  console.warn('\n*** SKIPPING the PostgreSQL tests: POCKETENV_TEST_DATABASE_URL is not set (scripts/test sets it) ***\n');
}

const database = `pocketenv_test_${randomBytes(4).toString('hex')}`;
let databaseUrl: string;
let server: TestServer;
let api: Api;

async function withClient<T>(connectionString: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe.skipIf(!adminUrl)('the server on PostgreSQL (DATABASE_URL)', () => {
  beforeAll(async () => {
    await withClient(adminUrl!, (c) => c.query(`CREATE DATABASE ${database}`));
    const url = new URL(adminUrl!);
    url.pathname = `/${database}`;
    databaseUrl = url.toString();
    server = await startTestServer({ databaseUrl });
    api = new Api(server.url, server.ownerToken);
  });

  afterAll(async () => {
    await server?.close();
    if (adminUrl) await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  });

  it('keeps sandboxes and their attachments in PostgreSQL, with the same answers as on SQLite', async () => {
    const sb = await api.create({ name: 'pg-box', description: 'on postgres' });
    expect(sb).toMatchObject({ name: 'pg-box', status: 'RUNNING' });
    expect(await api.exec(sb.id, 'echo hello')).toMatchObject({ stdout: 'hello\n', exitCode: 0 });

    expectOk(await api.procedure('io.pocketenv.variable.addVariable', undefined, { variable: { sandboxId: sb.name, name: 'GREETING', value: 'hi from pg' } }));
    expect((await api.exec(sb.id, 'echo "$GREETING"')).stdout).toBe('hi from pg\n');

    // A duplicate name is the database's unique constraint, mapped to 409 on this dialect too.
    const dup = await api.procedure('io.pocketenv.sandbox.createSandbox', undefined, { base: 'debian', name: 'pg-box' });
    expect(dup).toMatchObject({ status: 409, body: { error: 'Conflict' } });

    const second = await api.create({});
    const page = expectOk(await api.query('io.pocketenv.sandbox.getSandboxes', { limit: 1 }));
    expect(page).toMatchObject({ total: 2, sandboxes: [{ id: second.id }] });

    // The rows really are in PostgreSQL.
    const rows = await withClient(databaseUrl, async (c) => (await c.query('SELECT name, status FROM sandboxes ORDER BY name')).rows);
    expect(rows.map((r) => r.name)).toContain('pg-box');
    expect(rows).toHaveLength(2);

    await api.stop(sb.id);
    expect((await api.get(sb.id)).status).toBe('STOPPED');
    await api.start(sb.id);
    expect((await api.exec(sb.id, 'echo "$GREETING"')).stdout).toBe('hi from pg\n');
    await api.delete(sb.id);
    expect(await api.get('pg-box')).toBeNull();
  });

  it('checks ownership and tokens against PostgreSQL too', async () => {
    const mine = await api.create({});
    const other = await server.createActor('pg-other');
    const them = api.as(other.token);
    expect(await them.get(mine.id)).toBeNull();
    expect((await them.procedure('io.pocketenv.sandbox.exec', { id: mine.id }, { command: 'true' })).status).toBe(404);
    expect(await server.revokeToken(other.token)).toBe(true);
    expect((await them.query('io.pocketenv.actor.getProfile')).status).toBe(401);
  });

  it('keeps names unique per owner on PostgreSQL too (migration 0008)', async () => {
    const alice = api.as((await server.createActor('pg-names-alice')).token);
    const bob = api.as((await server.createActor('pg-names-bob')).token);
    const [a, b] = await Promise.all([alice.create({ name: 'pg-twin' }), bob.create({ name: 'pg-twin' })]);
    expect(b.id).not.toBe(a.id);
    expect((await alice.get('pg-twin')).id).toBe(a.id);
    expect((await bob.get('pg-twin')).id).toBe(b.id);
    const again = await bob.procedure('io.pocketenv.sandbox.createSandbox', undefined, { base: 'debian', name: 'pg-twin' });
    expect(again).toMatchObject({ status: 409, body: { error: 'Conflict' } });
    await Promise.all([alice.delete(a.id), bob.delete(b.id)]);
  });
});
