/**
 * The one place any error becomes a wire error (`toXrpcError`): each domain and provider error
 * gets the contract's status and name with its message; body-parser failures get theirs; and
 * anything unexpected is a 500 whose message never leaves the server.
 */
import { InvalidRequestError as XrpcInvalidRequest, MethodNotImplementedError, XRPCError } from '@atproto/xrpc-server';
import { describe, expect, it } from 'vitest';
import {
  PathEscapeError,
  ProviderError,
  SandboxMissingError,
  SandboxNotRunningError,
  UnknownBaseError,
  UnsupportedCapabilityError,
} from '@pocketenv/runtime';
import {
  AuthenticationError,
  ConflictError,
  InvalidInputError,
  InvalidStateError,
  NotFoundError,
  NotImplementedError,
  ProviderFailureError,
  RateLimitError,
  SandboxNotFoundError,
  toXrpcError,
} from '../src/errors';

/** What a client receives: the status and the JSON body. */
function wire(err: unknown, jsonLimitBytes?: number) {
  const x = toXrpcError(err, jsonLimitBytes);
  return { status: x.statusCode, ...x.payload };
}

describe('toXrpcError: domain errors', () => {
  it.each([
    [new InvalidInputError('name', 'must be 1-63 characters'), 400, 'InvalidRequest', 'name: must be 1-63 characters'],
    [new InvalidStateError('sandbox box is STOPPED, not RUNNING; start it first'), 400, 'InvalidRequest', 'sandbox box is STOPPED, not RUNNING; start it first'],
    [new AuthenticationError('token expired'), 401, 'AuthenticationRequired', 'token expired'],
    [new SandboxNotFoundError('box'), 404, 'SandboxNotFound', 'sandbox "box" not found'],
    [new NotFoundError('no such variable'), 404, 'NotFound', 'no such variable'],
    [new ConflictError('name box is taken'), 409, 'Conflict', 'name box is taken'],
    [new RateLimitError('too many execs', 3), 429, 'RateLimitExceeded', 'too many execs'],
    [new NotImplementedError('not on this server'), 501, 'MethodNotImplemented', 'not on this server'],
    [new ProviderFailureError('sandbox box could not be started: boom'), 502, 'SandboxProviderError', 'sandbox box could not be started: boom'],
  ])('%s → %i %s', (err, status, error, message) => {
    expect(wire(err)).toEqual({ status, error, message });
  });

  it('keeps a message that already names its field as it is', () => {
    expect(wire(new InvalidInputError('cwd', 'cwd must be absolute')).message).toBe('cwd must be absolute');
  });
});

describe('toXrpcError: provider errors that reach the wire unwrapped', () => {
  it('maps what the caller can fix to 400 InvalidRequest', () => {
    expect(wire(new SandboxNotRunningError('sbx_1'))).toEqual({ status: 400, error: 'InvalidRequest', message: 'sandbox sbx_1 is not running; start it first' });
    expect(wire(new PathEscapeError('../x', "'..' is not allowed"))).toMatchObject({ status: 400, error: 'InvalidRequest', message: expect.stringContaining('../x') });
    expect(wire(new UnknownBaseError('nope', ['debian', 'node']))).toEqual({
      status: 400,
      error: 'InvalidRequest',
      message: 'base: unknown base "nope"; available: debian, node',
    });
    expect(wire(new UnsupportedCapabilityError('fake', 'volumes', 'mount it read-write'))).toEqual({
      status: 400,
      error: 'InvalidRequest',
      message: 'the fake provider does not support volumes: mount it read-write',
    });
  });

  it('maps what the provider itself failed at to 502 SandboxProviderError', () => {
    expect(wire(new SandboxMissingError('sbx_2'))).toMatchObject({ status: 502, error: 'SandboxProviderError', message: expect.stringContaining('sbx_2') });
    expect(wire(new ProviderError('crun exploded'))).toEqual({ status: 502, error: 'SandboxProviderError', message: 'crun exploded' });
  });
});

describe('toXrpcError: HTTP-level errors', () => {
  const bodyParserError = (props: Record<string, unknown>) => Object.assign(new Error('raw parser text'), props);

  it('names the JSON limit on a body that is too large (413)', () => {
    expect(wire(bodyParserError({ type: 'entity.too.large', status: 413 }), 2 * 1024 * 1024)).toEqual({
      status: 413,
      error: 'PayloadTooLarge',
      message: 'request body is too large (limit 2 MiB)',
    });
    expect(wire(bodyParserError({ status: 413 })).message).toBe('request body is too large');
  });

  it('says a body is not JSON (400) without echoing the parser', () => {
    expect(wire(bodyParserError({ type: 'entity.parse.failed', status: 400 }))).toEqual({ status: 400, error: 'InvalidRequest', message: 'request body is not valid JSON' });
  });

  it('keeps other exposed 4xx errors with their status', () => {
    expect(wire(bodyParserError({ status: 415, expose: true, message: 'unsupported charset "latin9"' }))).toEqual({
      status: 415,
      error: 'InvalidRequest',
      message: 'unsupported charset "latin9"',
    });
  });

  it('gives xrpc-server errors the contract names and strips its "Error: " prefix', () => {
    expect(wire(new XrpcInvalidRequest('Error: limit can not be less than 1'))).toEqual({ status: 400, error: 'InvalidRequest', message: 'limit can not be less than 1' });
    expect(wire(new MethodNotImplementedError())).toMatchObject({ status: 501, error: 'MethodNotImplemented' });
    expect(wire(new XRPCError(404))).toMatchObject({ status: 404, error: 'NotFound' });
    expect(wire(new XRPCError(500, 'database path /secret/db'))).toEqual({ status: 500, error: 'InternalServerError', message: 'Internal Server Error' });
  });
});

describe('toXrpcError: anything else', () => {
  it('is a 500 whose message does not leave the server', () => {
    for (const err of [new Error('ENOENT: /root/.pocketenv/keys/box.key'), new TypeError('x is undefined'), 'a string', undefined, { status: 418 }]) {
      expect(wire(err)).toEqual({ status: 500, error: 'InternalServerError', message: 'Internal Server Error' });
    }
  });

  it('does not expose a 4xx that is not marked safe to show', () => {
    expect(wire(Object.assign(new Error('internal detail'), { status: 403 }))).toMatchObject({ status: 500, message: 'Internal Server Error' });
  });
});
