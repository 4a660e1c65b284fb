/**
 * Sandbox names: honoured when given (validated as hostnames), generated as adjective-noun-xxxx
 * otherwise. A name is unique among its owner's sandboxes only (the database's unique
 * (owner_id, name) index), so another actor's names are never revealed by a conflict.
 */
import { randomInt } from 'node:crypto';
import { ConflictError, InvalidInputError } from '../errors';
import { ADJECTIVES, NOUNS } from './words';

const SUFFIX_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
/** A DNS label: the name is the sandbox's hostname. No underscore, so it never looks like an `sbx_` id. */
const NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function pick<T>(list: readonly T[]): T {
  return list[randomInt(list.length)]!;
}

export function generateName(): string {
  let suffix = '';
  for (let i = 0; i < 4; i++) suffix += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
  return `${pick(ADJECTIVES)}-${pick(NOUNS)}-${suffix}`;
}

export function validateName(name: string, field = 'name'): string {
  if (!NAME.test(name)) {
    throw new InvalidInputError(
      field,
      `${field} ${JSON.stringify(name)} must be 1-63 lowercase letters, digits or hyphens, starting and ending with a letter or digit (it becomes the sandbox's hostname), e.g. ${JSON.stringify(suggestLabel(name))}`,
    );
  }
  return name;
}

/**
 * A name close to `raw` that the name rules accept, for error messages ("e.g. my-box"):
 * lowercased, every run of other characters made one hyphen, trimmed to 63 characters.
 */
export function suggestLabel(raw: string, fallback = 'my-sandbox'): string {
  const label = raw
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '');
  return label || fallback;
}

/** The 409 for a name the caller already uses (only ever the caller's own sandboxes). */
export function nameTaken(name: string, field = 'name'): ConflictError {
  return new ConflictError(`${field}: you already have a sandbox named ${JSON.stringify(name)}; choose another name`);
}
