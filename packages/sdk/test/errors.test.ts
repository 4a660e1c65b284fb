/**
 * Typed errors: one hierarchy under PocketenvError (alias SandboxError), each class naming
 * itself, and each wire failure a user can cause reaching them as the right class, through the
 * object API against a real server. One sandbox.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { startTestServer, type TestServer } from '@pocketenv/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as sdk from '../src/index';
import {
  AuthenticationError,
  ConflictError,
  DecodeError,
  HttpError,
  InvalidArgumentError,
  InvalidRequestError,
  NotFoundError,
  PocketenvError,
  RateLimitError,
  Sandbox,
  SandboxError,
  SandboxNotFoundError,
  TimeoutError,
} from '../src/index';

let server: TestServer;
const LIMITS = { POCKETENV_EXEC_RATE: '2', POCKETENV_EXEC_BURST: '2' };

beforeAll(async () => {
  const saved = { ...process.env };
  Object.assign(process.env, LIMITS); // read once, by the server, while it starts
  try {
    server = await startTestServer();
  } finally {
    process.env = saved;
  }
  const alice = await server.createActor('alice');
  Sandbox.configure({ token: alice.token, baseUrl: server.url });
});

afterAll(async () => {
  await server?.close();
});

/** Every error class the package exports, built with the arguments its constructor takes. */
function everyErrorClass(): Array<[string, Error]> {
  const out: Array<[string, Error]> = [];
  for (const [name, value] of Object.entries(sdk)) {
    if (typeof value !== 'function' || !(value.prototype instanceof Error)) continue;
    const Ctor = value as unknown as new (...args: unknown[]) => Error;
    const args = value.prototype instanceof sdk.ApiError || value === sdk.ApiError ? [418, 'Teapot', 'msg'] : name === 'SandboxStateError' ? ['ERROR', 'msg'] : name === 'ArchiveError' ? ['invalid', 'msg'] : ['msg'];
    out.push([name, new Ctor(...args)]);
  }
  return out;
}

describe('the error hierarchy', () => {
  it('makes every exported error a PocketenvError (also called SandboxError) that names its class', () => {
    const classes = everyErrorClass();
    expect(classes.length).toBeGreaterThanOrEqual(18);
    for (const [exported, error] of classes) {
      expect(error, exported).toBeInstanceOf(PocketenvError);
      expect(error, exported).toBeInstanceOf(SandboxError);
      expect(error.name, exported).toBe(error.constructor.name);
    }
    expect(SandboxError).toBe(PocketenvError);
    expect(InvalidArgumentError).toBe(InvalidRequestError);
  });
});

describe('wire failures become their class', () => {
  let sb: Sandbox;

  it('400 InvalidArgumentError with the fix in the message; 409 ConflictError', async () => {
    const bad = await Sandbox.create({ base: 'no-such-base' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidArgumentError);
    expect(bad).toMatchObject({ status: 400, name: 'InvalidRequestError' });
    expect((bad as Error).message).toMatch(/debian/); // names the bases there are

    sb = await Sandbox.create({ base: 'debian', name: 'errors-box' });
    await expect(Sandbox.create({ base: 'debian', name: 'errors-box' })).rejects.toSatisfy(
      (e: unknown) => e instanceof ConflictError && e.status === 409,
    );
  });

  it('404 SandboxNotFoundError (a NotFoundError) for a sandbox, NotFoundError for an attachment', async () => {
    const missing = await Sandbox.get('no-such-box').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(SandboxNotFoundError);
    expect(missing).toBeInstanceOf(NotFoundError);
    const variable = await sb.env.get('var_doesnotexist').catch((e: unknown) => e);
    expect(variable).toBeInstanceOf(NotFoundError);
    expect(variable).not.toBeInstanceOf(SandboxNotFoundError);
  });

  it('401 AuthenticationError for a token the server does not know', async () => {
    await expect(Sandbox.list({ token: 'pe_not_a_real_token' })).rejects.toSatisfy(
      (e: unknown) => e instanceof AuthenticationError && e.status === 401,
    );
  });

  it('a refused streaming exec is the same class as the buffered one (not running: 400)', async () => {
    await sb.stop();
    await expect(sb.exec('true', { onStdout: () => {} })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(sb.exec('true')).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('429 RateLimitError with retryAfter, from the buffered exec', async () => {
    await sb.start();
    const results = await Promise.allSettled([1, 2, 3, 4, 5, 6, 7, 8].map(() => sb.exec('true')));
    const limited = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as unknown);
    expect(limited.length).toBeGreaterThan(0);
    for (const e of limited) {
      expect(e).toBeInstanceOf(RateLimitError);
      expect((e as RateLimitError).retryAfter).toBeGreaterThan(0);
    }
  });

  it('HttpError when nothing listens, TimeoutError when nothing answers, DecodeError for a body of the wrong shape', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(Sandbox.getProfile({ baseUrl: `http://127.0.0.1:${deadPort}`, token: 't' })).rejects.toBeInstanceOf(HttpError);

    const silent = net.createServer(() => {}); // accepts, never answers
    const wrong = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"unexpected":true}'));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => wrong.listen(0, '127.0.0.1', resolve));
    try {
      const silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      await expect(Sandbox.getProfile({ baseUrl: silentUrl, token: 't', requestTimeoutMs: 300 })).rejects.toBeInstanceOf(TimeoutError);
      const wrongUrl = `http://127.0.0.1:${(wrong.address() as AddressInfo).port}`;
      await expect(Sandbox.getProfile({ baseUrl: wrongUrl, token: 't' })).rejects.toSatisfy(
        (e: unknown) => e instanceof DecodeError && /did/.test((e as Error).message),
      );
    } finally {
      silent.close();
      wrong.closeAllConnections();
      wrong.close();
    }
  });
});
