/** Exposed-port rows. Callers resolve the sandbox owner-checked first; these queries trust the sandbox id. */
import { randomBytes } from 'node:crypto';
import type { Db } from '../db/index';
import { toCount } from '../db/index';
import { isUniqueViolation } from '../db/errors';
import type { PortTable, SandboxRecord } from '../db/schema';
import { ConflictError } from '../errors';
import { base62, nowIso } from '../ids';
import { newPreviewToken } from './preview-url';

export type PortRow = PortTable;

export function newPortRow(sandboxId: string, port: number, description: string | null, serviceId: string | null = null): PortRow {
  return {
    id: `prt_${base62(randomBytes(16))}`,
    sandbox_id: sandboxId,
    port,
    description,
    service_id: serviceId,
    token: newPreviewToken(),
    created_at: nowIso(),
  };
}

/** Inserts rows (in the caller's transaction, if any); a port already exposed is a 409 naming it. */
export async function insertPorts(db: Db, rows: PortRow[]): Promise<void> {
  for (const row of rows) {
    try {
      await db.insertInto('ports').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`port ${row.port} is already exposed in this sandbox`);
      throw err;
    }
  }
}

export async function listPorts(db: Db, sandboxId: string, page: { limit: number; offset: number }): Promise<{ rows: PortRow[]; total: number }> {
  const base = db.selectFrom('ports').where('sandbox_id', '=', sandboxId);
  const [rows, count] = await Promise.all([
    base.selectAll().orderBy('port', 'asc').limit(page.limit).offset(page.offset).execute(),
    base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: toCount(count.n) };
}

export async function findPort(db: Db, sandboxId: string, port: number): Promise<PortRow | undefined> {
  return db.selectFrom('ports').selectAll().where('sandbox_id', '=', sandboxId).where('port', '=', port).executeTakeFirst();
}

export async function deletePort(db: Db, sandboxId: string, port: number): Promise<void> {
  await db.deleteFrom('ports').where('sandbox_id', '=', sandboxId).where('port', '=', port).execute();
}

/** The exposed port a preview token stands for, with its sandbox. */
export async function findByToken(db: Db, token: string): Promise<{ port: PortRow; sandbox: SandboxRecord } | undefined> {
  const port = await db.selectFrom('ports').selectAll().where('token', '=', token).executeTakeFirst();
  if (!port) return undefined;
  const sandbox = await db.selectFrom('sandboxes').selectAll().where('id', '=', port.sandbox_id).executeTakeFirst();
  return sandbox ? { port, sandbox } : undefined;
}
