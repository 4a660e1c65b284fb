/** Checks on what callers attach: names, values and paths, each error naming its field. */
import { InvalidInputError } from '../errors';

/** Variable and secret names: what every shell accepts as an environment variable name. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_NAME = 256;
const MAX_PATH = 4096;

export function checkEnvName(field: string, name: string): string {
  if (name.length === 0 || name.length > MAX_NAME || !ENV_NAME.test(name)) {
    // Environment variable names: a shell cannot reference (or, for `=`, even export) others.
    const suggestion = name.slice(0, MAX_NAME).replace(/[^A-Za-z0-9_]/g, '_').replace(/^(?=[0-9])/, '_') || 'MY_VAR';
    throw new InvalidInputError(
      field,
      `${JSON.stringify(name.slice(0, 80))} is not a valid variable name (letters, digits and _, not starting with a digit; at most ${MAX_NAME}), e.g. ${JSON.stringify(suggestion.slice(0, 80))}`,
    );
  }
  return name;
}

/** An environment value cannot hold a NUL byte (execve would cut it there). */
export function checkEnvValue(field: string, value: string): string {
  if (value.includes('\0')) throw new InvalidInputError(field, 'contains a NUL byte, which an environment variable cannot hold');
  return value;
}

/** Kernel filesystems are mounted over these: a file written under them would never be seen. */
const KERNEL_DIRS = new Set(['proc', 'sys', 'dev']);

/**
 * An absolute path inside the sandbox, normalised (`//` and `/./` collapsed) so that one file
 * has one spelling. `..` is refused outright rather than resolved: a file attachment names
 * where it goes, and a path that climbs is either a mistake or an attempt to escape.
 * Symlinks inside the sandbox are the provider's business (it resolves them within the sandbox's root).
 */
export function checkSandboxFilePath(field: string, raw: string): string {
  if (raw.includes('\0')) throw new InvalidInputError(field, 'contains a NUL byte');
  if (!raw.startsWith('/')) throw new InvalidInputError(field, `${JSON.stringify(raw)} must be an absolute path inside the sandbox, e.g. ${JSON.stringify(`/workspace/${raw.replace(/^\.\//, '')}`)}`);
  if (raw.length > MAX_PATH) throw new InvalidInputError(field, `is longer than ${MAX_PATH} characters`);
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new InvalidInputError(field, `${JSON.stringify(raw)}: '..' is not allowed (a file cannot be written outside its path)`);
  if (parts.length === 0) throw new InvalidInputError(field, `${JSON.stringify(raw)} is the root directory, not a file`);
  if (raw.endsWith('/')) throw new InvalidInputError(field, `${JSON.stringify(raw)} ends with '/': name a file, not a directory`);
  if (KERNEL_DIRS.has(parts[0]!)) throw new InvalidInputError(field, `${JSON.stringify(raw)} is on a kernel filesystem (/${parts[0]}) of the sandbox`);
  return '/' + parts.join('/');
}

/** The default page of variables, secrets and files (../xrpc/pagination.ts bounds it). */
export const DEFAULT_ATTACHMENT_PAGE = 20;
