/**
 * For other features that need a port of a sandbox reachable from outside (the IDE exposes
 * code-server on 1024 this way): expose it like exposePort does, without the 1025 minimum,
 * and build its host-form URL (its own browser origin, whatever form exposePort answers with).
 */
import type { AppContext } from '../context';
import type { SandboxRecord } from '../db/schema';
import { hostFormUrl } from './preview-url';
import { findPort, insertPorts, newPortRow, type PortRow } from './repository';

export { hostFormUrl } from './preview-url';
export type { PortRow } from './repository';

/**
 * Exposes `port` of an (already owner-checked) sandbox unless it already is; returns its row
 * (`hostFormUrl(ctx.config.preview, req, row)` turns it into the URL). Idempotent.
 */
export async function exposeInternalPort(ctx: AppContext, record: SandboxRecord, port: number, opts: { description?: string } = {}): Promise<PortRow> {
  const existing = await findPort(ctx.db, record.id, port);
  if (existing) return existing;
  const row = newPortRow(record.id, port, opts.description ?? null);
  try {
    await insertPorts(ctx.db, [row]);
    return row;
  } catch (err) {
    // Exposed concurrently by another request: that row is as good as ours.
    const raced = await findPort(ctx.db, record.id, port);
    if (raced) return raced;
    throw err;
  }
}
