/** The wire's serviceView, and the status rules that combine the record with what the supervisor reports. */
import type { ServiceDefs } from '@pocketenv/lexicons';
import type { SandboxRecord } from '../db/schema';
import type { ServiceRow } from './repository';
import type { ObservedService } from './scripts';

type Status = 'RUNNING' | 'STOPPED' | 'CRASHED' | 'ERROR';

/**
 * - sandbox not RUNNING                   → STOPPED (its processes are gone)
 * - supervisor alive                      → what it recorded: RUNNING, or CRASHED while it waits to restart
 * - supervisor gone, last record STOPPED  → STOPPED
 * - supervisor gone, owner asked for stop → STOPPED
 * - supervisor gone otherwise             → ERROR (killed, or never launched): start/restart it
 */
export function statusOf(sandbox: SandboxRecord, service: ServiceRow, observed: ObservedService | undefined): Status {
  if (sandbox.status !== 'RUNNING') return 'STOPPED';
  const recorded = observed?.status;
  if (observed?.supervised) return recorded === 'RUNNING' || recorded === 'CRASHED' ? recorded : 'STOPPED';
  if (recorded === 'STOPPED' || service.desired_state === 'stopped') return 'STOPPED';
  return 'ERROR';
}

export function toServiceView(sandbox: SandboxRecord, service: ServiceRow, observed: ObservedService | undefined): ServiceDefs.ServiceView {
  const running = sandbox.status === 'RUNNING';
  return {
    id: service.id,
    sandboxId: service.sandbox_id,
    name: service.name,
    command: service.command,
    ...(service.description !== null ? { description: service.description } : {}),
    ports: JSON.parse(service.ports) as number[],
    status: statusOf(sandbox, service, observed),
    ...(running && observed?.lastExitCode !== undefined ? { lastExitCode: observed.lastExitCode } : {}),
    ...(running && observed?.restarts !== undefined ? { restarts: observed.restarts } : {}),
    createdAt: service.created_at,
    updatedAt: service.updated_at,
  };
}
