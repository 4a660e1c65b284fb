/**
 * What the attachment modules (env, secrets, files, sshkeys, tailscale) share: decoders (a 2xx
 * body that is not what the method returns becomes a `DecodeError` saying what is missing;
 * unknown extra fields are kept), and who a call by attachment id goes through.
 * @module
 */
import type { Client } from './client';
import { ConnectedSandbox } from './connected';
import { DecodeError } from './errors';

/**
 * Calls that address an attachment by its id (get, update, delete) need only a client; a
 * connected sandbox works too (and then also checks the attachment is that sandbox's).
 */
export type Reach = ConnectedSandbox | Client;

export function clientOf(target: Reach): Client {
  return target instanceof ConnectedSandbox ? target.client : target;
}

export function sandboxIdOf(target: Reach): string | undefined {
  return target instanceof ConnectedSandbox ? target.id : undefined;
}

type Json = Record<string, unknown>;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'undefined' ? 'nothing' : `a ${typeof value}`;
}

/** An object whose `strings` fields are all strings. */
export function decodeRecord<T>(value: unknown, what: string, strings: readonly string[]): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DecodeError(`${what}: expected an object, got ${describe(value)}`);
  }
  for (const key of strings) {
    const field = (value as Json)[key];
    if (typeof field !== 'string') throw new DecodeError(`${what}: field "${key}" should be a string, got ${describe(field)}`);
  }
  return value as T;
}

/** `{[key]: T}` → the item. */
export function decodeWrapped<T>(value: unknown, what: string, key: string, strings: readonly string[]): T {
  const body = decodeRecord<Json>(value, what, []);
  return decodeRecord<T>(body[key], `${what}.${key}`, strings);
}

/** `{[key]: T[], total}` → the items and the total (0 when a server leaves it out). */
export function decodeList<T>(value: unknown, what: string, key: string, strings: readonly string[]): { items: T[]; total: number } {
  const body = decodeRecord<Json>(value, what, []);
  const items = body[key];
  if (!Array.isArray(items)) throw new DecodeError(`${what}: field "${key}" should be an array, got ${describe(items)}`);
  return {
    items: items.map((item, i) => decodeRecord<T>(item, `${what}.${key}[${i}]`, strings)),
    total: typeof body.total === 'number' ? body.total : items.length,
  };
}

/** Leaves optional fields out of the JSON instead of sending `null`s the lexicon would reject. */
export function dropUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
