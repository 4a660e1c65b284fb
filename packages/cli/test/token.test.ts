/**
 * `pocketenv token create/ls/revoke` as an admin runs them next to a running server: tokens
 * that expire, a listing that never shows a token, and revocation that takes effect at once.
 */
import { startTestServer } from '@pocketenv/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli';

describe('pocketenv token', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  const admin = (...args: string[]) => runCli(['token', ...args, '--data-dir', server.dataDir]);
  const whoami = (token: string) => runCli(['whoami', '--json'], { POCKETENV_API_URL: server.url, POCKETENV_TOKEN: token });
  const listed = async (handle: string) => {
    const ls = await admin('ls', '--handle', handle, '--json');
    expect(ls.code).toBe(0);
    return JSON.parse(ls.stdout) as Array<{ id: string; label: string; status: string; expiresAt: string | null }>;
  };

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('makes a token that works until it expires, then is a 401 and listed as expired', async () => {
    // Works while valid (an hour is far beyond any test run)…
    const made = await admin('create', '--handle', 'erin', '--expires', '1h', '--label', 'ci runner', '--json');
    expect(made.code).toBe(0);
    const valid = JSON.parse(made.stdout) as { id: string; token: string; expiresAt: string };
    expect(valid.id).toMatch(/^tok_/);
    const hour = Date.parse(valid.expiresAt) - Date.now();
    expect(hour).toBeGreaterThan(50 * 60_000);
    expect(hour).toBeLessThanOrEqual(60 * 60_000);
    expect((await whoami(valid.token)).code).toBe(0);

    // …and a token past its time does not, whatever else it is.
    const short = JSON.parse((await admin('create', '--handle', 'erin', '--expires', '1s', '--json')).stdout) as { id: string; token: string; expiresAt: string };
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(short.expiresAt) - Date.now()) + 200));
    const late = await whoami(short.token);
    expect(late.code).toBe(3);
    expect(late.stderr).toMatch(/expired/);
    expect(await listed('erin')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: valid.id, label: 'ci runner', status: 'active' }),
        expect.objectContaining({ id: short.id, label: 'cli', status: 'expired' }),
      ]),
    );
    expect((await whoami(valid.token)).code).toBe(0);
  });

  it('revokes tokens by id at once, leaving the actor’s other tokens working', async () => {
    const keep = JSON.parse((await admin('create', '--handle', 'frank', '--json')).stdout) as { id: string; token: string };
    const drop = JSON.parse((await admin('create', '--handle', 'frank', '--json')).stdout) as { id: string; token: string };
    expect((await whoami(drop.token)).code).toBe(0);

    const revoked = await admin('revoke', drop.id);
    expect(revoked).toMatchObject({ code: 0, stdout: `Revoked ${drop.id}\n` });
    expect((await whoami(drop.token)).code).toBe(3);
    expect((await whoami(keep.token)).code).toBe(0);
    const tokens = await listed('frank');
    expect(tokens.find((t) => t.id === drop.id)?.status).toBe('revoked');
    expect(tokens.find((t) => t.id === keep.id)).toMatchObject({ status: 'active', expiresAt: null });

    // The table: a header, one row per token, and no token anywhere in it.
    const table = await admin('ls', '--handle', 'frank');
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+ACTOR\s+LABEL\s+CREATED\s+EXPIRES\s+STATUS$/);
    expect(table.stdout).toContain('@frank');
    expect(table.stdout).not.toContain(keep.token);
    expect(table.stdout).not.toContain(drop.token);
  });

  it('says so for an id that is not an active token (exit 4), and for a bad duration (exit 2)', async () => {
    const unknown = await admin('revoke', 'tok_doesnotexist');
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('no active token tok_doesnotexist');
    const bad = await admin('create', '--handle', 'gina', '--expires', 'soon');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/duration/);
    expect(await listed('gina')).toEqual([]);
  });
});
