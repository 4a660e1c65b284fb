/**
 * Service rows and their exposed ports. A service is found only through its sandbox's owner,
 * so another actor's service is "not found" by construction of the query.
 */
import { randomBytes } from 'node:crypto';
import type { Db } from '../db/index';
import { toCount } from '../db/index';
import { isUniqueViolation } from '../db/errors';
import type { SandboxRecord, ServiceTable } from '../db/schema';
import { ConflictError, NotFoundError } from '../errors';
import { base62, nowIso } from '../ids';
import { insertPorts, newPortRow } from '../ports/repository';

export type ServiceRow = ServiceTable;

export interface NewService {
  name: string;
  command: string;
  description?: string;
  ports: number[];
}

export interface ServicePatch {
  name?: string;
  command?: string;
  description?: string;
  ports?: number[];
}

function nameTaken(name: string): ConflictError {
  return new ConflictError(`service.name: a service named ${JSON.stringify(name)} already exists in this sandbox`);
}

export class ServiceRepository {
  constructor(private readonly db: Db) {}

  /** The service with its sandbox, when the sandbox is `ownerId`'s; else NotFound. */
  async findOwned(ownerId: string, serviceId: string): Promise<{ service: ServiceRow; sandbox: SandboxRecord }> {
    const service = await this.db.selectFrom('services').selectAll().where('id', '=', serviceId).executeTakeFirst();
    const sandbox = service
      ? await this.db.selectFrom('sandboxes').selectAll().where('id', '=', service.sandbox_id).where('owner_id', '=', ownerId).executeTakeFirst()
      : undefined;
    if (!service || !sandbox) throw new NotFoundError(`service ${JSON.stringify(serviceId)} not found`);
    return { service, sandbox };
  }

  async get(serviceId: string): Promise<ServiceRow | undefined> {
    return this.db.selectFrom('services').selectAll().where('id', '=', serviceId).executeTakeFirst();
  }

  /** A sandbox's services, oldest first. */
  async list(sandboxId: string, page?: { limit: number; offset: number }): Promise<{ rows: ServiceRow[]; total: number }> {
    const base = this.db.selectFrom('services').where('sandbox_id', '=', sandboxId);
    let rowsQuery = base.selectAll().orderBy('created_at', 'asc').orderBy('id', 'asc');
    if (page) rowsQuery = rowsQuery.limit(page.limit).offset(page.offset);
    const [rows, count] = await Promise.all([rowsQuery.execute(), base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()]);
    return { rows, total: toCount(count.n) };
  }

  /** Inserts the service and exposes its ports, all or nothing (409 on a taken name or port). */
  async insert(sandboxId: string, input: NewService): Promise<ServiceRow> {
    const now = nowIso();
    const row: ServiceRow = {
      id: `svc_${base62(randomBytes(16))}`,
      sandbox_id: sandboxId,
      name: input.name,
      command: input.command,
      description: input.description ?? null,
      ports: JSON.stringify(input.ports),
      desired_state: 'running',
      created_at: now,
      updated_at: now,
    };
    await this.db.transaction().execute(async (tx) => {
      try {
        await tx.insertInto('services').values(row).execute();
      } catch (err) {
        throw isUniqueViolation(err) ? nameTaken(input.name) : err;
      }
      await insertPorts(tx, input.ports.map((port) => newPortRow(sandboxId, port, `service ${input.name}`, row.id)));
    });
    return row;
  }

  /** Applies a patch; new `ports` replace the service's exposed ports (all or nothing). */
  async update(service: ServiceRow, patch: ServicePatch): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const name = patch.name ?? service.name;
      try {
        await tx
          .updateTable('services')
          .set({
            name,
            command: patch.command ?? service.command,
            description: patch.description ?? service.description,
            ports: patch.ports ? JSON.stringify(patch.ports) : service.ports,
            updated_at: nowIso(),
          })
          .where('id', '=', service.id)
          .execute();
      } catch (err) {
        throw isUniqueViolation(err) ? nameTaken(name) : err;
      }
      if (patch.ports) {
        await tx.deleteFrom('ports').where('service_id', '=', service.id).execute();
        await insertPorts(tx, patch.ports.map((port) => newPortRow(service.sandbox_id, port, `service ${name}`, service.id)));
      }
    });
  }

  async setDesired(ids: string[], desired: ServiceRow['desired_state']): Promise<void> {
    if (ids.length === 0) return;
    await this.db.updateTable('services').set({ desired_state: desired, updated_at: nowIso() }).where('id', 'in', ids).execute();
  }

  /** Removes the service and the ports it exposed. */
  async remove(serviceId: string): Promise<void> {
    await this.db.deleteFrom('ports').where('service_id', '=', serviceId).execute();
    await this.db.deleteFrom('services').where('id', '=', serviceId).execute();
  }
}
