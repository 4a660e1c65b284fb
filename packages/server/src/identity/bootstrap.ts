/**
 * First start: create the owner actor and hand its token to existing clients through
 * `<dataDir>/token.json` ({"token": "…"}, the file Pocketenv clients already read).
 *
 * The file is never overwritten: if it holds the owner's token, that is the owner token; if
 * it holds something else (say, a hosted-service token), it is left alone and
 * the server mints an in-process session token instead (revoked on the next start).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log';
import type { ActorStore } from './actors';

export const OWNER_HANDLE = 'owner';
const SESSION_LABEL = 'owner-session';

export function tokenFilePath(dataDir: string): string {
  return path.join(dataDir, 'token.json');
}

export async function bootstrapOwner(actors: ActorStore, dataDir: string, log: Logger): Promise<string> {
  const owner = await actors.ensureActor(OWNER_HANDLE, 'Owner');
  const file = tokenFilePath(dataDir);
  const existing = await readTokenFile(file);

  if (existing !== undefined) {
    const holder = await actors.findByToken(existing);
    if (holder?.id === owner.id) return existing;
    await actors.revokeLabel(owner, SESSION_LABEL);
    log.warn('token.json holds a token this server does not know; leaving it unchanged. Run `pocketenv token create --handle NAME` for a token.', { file });
    return (await actors.issueToken(owner, SESSION_LABEL)).token;
  }

  const { token } = await actors.issueToken(owner, 'owner');
  await writeTokenFile(file, token);
  log.info('wrote the owner token to token.json', { file, did: owner.did, handle: owner.handle });
  return token;
}

/** The token in the file, `undefined` when there is no file; a file without a token counts as foreign. */
async function readTokenFile(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as { token?: unknown };
    return typeof parsed.token === 'string' ? parsed.token : '';
  } catch {
    return '';
  }
}

async function writeTokenFile(file: string, token: string): Promise<void> {
  // `wx`: fail rather than clobber a file that appeared meanwhile; 0600: the token is a password.
  const handle = await fs.open(file, 'wx', 0o600);
  try {
    await handle.writeFile(JSON.stringify({ token }) + '\n');
  } finally {
    await handle.close();
  }
}
