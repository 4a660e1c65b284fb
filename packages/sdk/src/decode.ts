/**
 * Checks that a 2xx body has the shape a method promises, so a wrong server (or base URL)
 * fails with a `DecodeError` that says what is missing instead of `undefined` surfacing later.
 * Unknown extra fields are kept: a newer server may send more.
 * @module
 */
import { DecodeError } from './errors';
import type { ExecResult, Profile, Sandbox, SandboxPage, ServerDescription } from './types';

type Json = Record<string, unknown>;

function object(value: unknown, what: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DecodeError(`${what}: expected an object, got ${describe(value)}`);
  }
  return value as Json;
}

function field<T>(body: Json, key: string, type: 'string' | 'number', what: string): T {
  const value = body[key];
  if (typeof value !== type) throw new DecodeError(`${what}: field "${key}" should be a ${type}, got ${describe(value)}`);
  return value as T;
}

function optional(body: Json, key: string, type: 'string' | 'number', what: string): void {
  const value = body[key];
  if (value !== undefined && value !== null && typeof value !== type) {
    throw new DecodeError(`${what}: field "${key}" should be a ${type} when present, got ${describe(value)}`);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'undefined' ? 'nothing' : `a ${typeof value}`;
}

/** A bare sandbox view (`createSandbox`'s answer, or an item of a list). */
export function decodeSandbox(value: unknown, what = 'sandbox'): Sandbox {
  const body = object(value, what);
  for (const key of ['id', 'name', 'provider', 'baseSandbox', 'status', 'createdAt']) field<string>(body, key, 'string', what);
  for (const key of ['runsOn', 'displayName', 'uri', 'description', 'logo', 'readme', 'repo', 'startedAt', 'error']) {
    optional(body, key, 'string', what);
  }
  for (const key of ['vcpus', 'memory', 'disk', 'installs']) optional(body, key, 'number', what);
  return body as unknown as Sandbox;
}

/** `{sandbox: SandboxView | null}` → the sandbox or `null`. */
export function decodeSandboxOrNull(value: unknown): Sandbox | null {
  const body = object(value, 'getSandbox');
  if (body.sandbox === null || body.sandbox === undefined) return null;
  return decodeSandbox(body.sandbox, 'getSandbox.sandbox');
}

/** `{sandboxes: SandboxView[], total}`; a missing total is 0, as in the seed SDK. */
export function decodeSandboxPage(value: unknown, what: string): SandboxPage {
  const body = object(value, what);
  if (!Array.isArray(body.sandboxes)) throw new DecodeError(`${what}: field "sandboxes" should be an array, got ${describe(body.sandboxes)}`);
  optional(body, 'total', 'number', what);
  return {
    sandboxes: body.sandboxes.map((item, i) => decodeSandbox(item, `${what}.sandboxes[${i}]`)),
    total: typeof body.total === 'number' ? body.total : 0,
  };
}

export function decodeExecResult(value: unknown): ExecResult {
  const what = 'exec';
  const body = object(value, what);
  const result: ExecResult = {
    stdout: field<string>(body, 'stdout', 'string', what),
    stderr: field<string>(body, 'stderr', 'string', what),
    exitCode: field<number>(body, 'exitCode', 'number', what),
  };
  if (typeof body.truncated === 'boolean') result.truncated = body.truncated;
  if (typeof body.timedOut === 'boolean') result.timedOut = body.timedOut;
  return result;
}

export function decodeProfile(value: unknown): Profile {
  const what = 'getProfile';
  const body = object(value, what);
  field<string>(body, 'did', 'string', what);
  field<string>(body, 'handle', 'string', what);
  for (const key of ['displayName', 'avatar', 'createdAt', 'updatedAt']) optional(body, key, 'string', what);
  return body as unknown as Profile;
}

/** `{previewUrl}` of `exposeVscode` / `exposePort`. */
export function decodePreviewUrl(value: unknown, what: string): string {
  return field<string>(object(value, what), 'previewUrl', 'string', what);
}

export function decodeServerDescription(value: unknown): ServerDescription {
  const what = 'describeServer';
  const body = object(value, what);
  field<string>(body, 'version', 'string', what);
  field<string>(body, 'publicKey', 'string', what);
  for (const key of ['providers', 'bases']) {
    if (!Array.isArray(body[key])) throw new DecodeError(`${what}: field "${key}" should be an array, got ${describe(body[key])}`);
  }
  return body as unknown as ServerDescription;
}
