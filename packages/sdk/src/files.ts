/**
 * Files of a sandbox, as the seed SDK's `pocketenv/files`: content sealed here (unlike the Gleam
 * seed, which sent it in plaintext), written at `path` inside the sandbox at every start and,
 * when it is running, at once. Owned by the sandbox's root user, mode 0644. The content is
 * never returned. A path with `..`, a relative path, or one the sandbox refuses is an
 * `InvalidRequestError`.
 * Calls by id (`get`, `update`, `delete`) take the connected sandbox or just a client.
 * `read` reads any file of the running sandbox, attached or not (see `read-file.ts`).
 *
 * @example
 * import { files } from '@pocketenv/sdk';
 * await files.write(sb, '/workspace/.env', 'API_URL=https://example.com\n');
 * const bytes = await files.read(sb, '/workspace/.env');
 * @module
 */
import type { FileDefs } from '@pocketenv/lexicons';
import { type Reach, clientOf, decodeList, decodeWrapped, dropUndefined, sandboxIdOf } from './attachment-wire';
import type { ConnectedSandbox } from './connected';
import { sealFor } from './crypto';
import { type CallOptions, procedure, query } from './http';

/** A file as the server returns it: `id`, `path`, `createdAt`, `updatedAt` (never the content). */
export type SandboxFile = FileDefs.FileView;

export interface FilePage {
  files: SandboxFile[];
  total: number;
}

const NS = 'io.pocketenv.file';
const FIELDS = ['id', 'path', 'createdAt'] as const;

/**
 * Seals `content` and attaches it at `path` (absolute, inside the sandbox).
 * @throws ConflictError when the sandbox already has a file at that path (use {@link update}).
 * @example
 * const f = await files.write(sb, '/etc/app/config.json', JSON.stringify(config));
 */
export async function write(sb: ConnectedSandbox, path: string, content: string | Uint8Array, opts?: CallOptions): Promise<SandboxFile> {
  const sealed = await sealFor(sb.client, content, opts);
  const body = await procedure(sb.client, `${NS}.addFile`, {}, { file: { sandboxId: sb.id, path, content: sealed } }, opts);
  return decodeWrapped<SandboxFile>(body, 'addFile', 'file', FIELDS);
}

/**
 * One page of the sandbox's files, newest first.
 * @example
 * const { files: page } = await files.list(sb);
 */
export async function list(sb: ConnectedSandbox, limit?: number, offset?: number, opts?: CallOptions): Promise<FilePage> {
  const body = await query(sb.client, `${NS}.getFiles`, { sandboxId: sb.id, limit, offset }, opts);
  const { items, total } = decodeList<SandboxFile>(body, 'getFiles', 'files', FIELDS);
  return { files: items, total };
}

/**
 * One file by id.
 * @example
 * const f = await files.get(sb, 'fil_…');
 */
export async function get(target: Reach, id: string, opts?: CallOptions): Promise<SandboxFile> {
  return decodeWrapped<SandboxFile>(await query(clientOf(target), `${NS}.getFile`, { id }, opts), 'getFile', 'file', FIELDS);
}

/**
 * Moves a file and/or replaces its content (sealed here); written at once when running.
 * @example
 * await files.update(sb, f.id, { content: 'new content' });
 */
export async function update(target: Reach, id: string, change: { path?: string; content?: string | Uint8Array }, opts?: CallOptions): Promise<void> {
  const client = clientOf(target);
  const content = change.content === undefined ? undefined : await sealFor(client, change.content, opts);
  await procedure(client, `${NS}.updateFile`, {}, { id, file: dropUndefined({ path: change.path, content }) }, opts);
}

/**
 * Stops writing a file at start (the copy already in the sandbox stays). Exported as `delete`.
 * @example
 * await files.delete(sb, f.id);
 */
async function del(target: Reach, id: string, opts?: CallOptions): Promise<void> {
  await procedure(clientOf(target), `${NS}.deleteFile`, { id }, {}, opts);
}
export { del as delete };

// Reading a file's contents from the running sandbox (any file, not only attached ones): see ./read-file.ts.
export { read } from './read-file';
export type { ReadFileOptions } from './read-file';
