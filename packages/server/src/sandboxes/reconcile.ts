/**
 * Startup reconciliation: makes every record tell the truth about its provider object and
 * removes provider objects nobody owns. Runs before the server accepts requests.
 *
 * Decisions (one function per case below):
 * - desired `deleted`              → finish the deletion (provider.delete, drop the record).
 * - INITIALIZING, never provisioned → the create was interrupted: remove any partial object,
 *                                     ERROR "provisioning was interrupted…"; startSandbox retries.
 * - INITIALIZING, provisioned       → a start was interrupted: stop whatever half-started,
 *                                     ERROR "start was interrupted…"; the filesystem is kept.
 * - RUNNING but the object is gone  → ERROR (filesystem lost; start re-provisions from the base).
 * - RUNNING but stopped             → STOPPED (it stopped while the server was down).
 * - RUNNING and running             → kept; its idle clock restarts now.
 * - STOPPED/ERROR but running       → stopped (nothing runs that the records say should not).
 * - an object with no record        → an orphan: deleted.
 * We settle interrupted transitions instead of retrying them so a sandbox that crashes the
 * provider cannot crash-loop the server; the caller sees the reason and decides.
 */
import type { ObservedSandbox, Provider } from '@pocketenv/runtime';
import type { SandboxRecord } from '../db/schema';
import { describeFailure } from '../errors';
import { nowIso } from '../ids';
import type { Logger } from '../log';
import type { Orchestrator } from './orchestrator';
import type { ProviderRegistry } from './providers';
import type { SandboxRepository } from './repository';

export interface ReconcileReport {
  checked: number;
  changed: number;
  orphansDeleted: number;
}

export async function reconcile(
  sandboxes: SandboxRepository,
  providers: ProviderRegistry,
  orchestrator: Orchestrator,
  log: Logger,
): Promise<ReconcileReport> {
  const report: ReconcileReport = { checked: 0, changed: 0, orphansDeleted: 0 };
  const records = await sandboxes.listAll();

  for (const provider of providers.all()) {
    const observed = await listObserved(provider, log);
    if (!observed) continue;
    const mine = records.filter((r) => r.provider === provider.name);
    const recorded = new Set(mine.map((r) => r.id));

    for (const record of mine) {
      report.checked++;
      const seen = observed.get(record.id) ?? { id: record.id, state: 'missing' as const };
      try {
        const changed = await orchestrator.withLock(record.id, () => settle(sandboxes, provider, record, seen, log));
        if (changed) report.changed++;
      } catch (err) {
        // One sandbox that cannot be settled must not keep the server down; it stays visible.
        log.error('reconcile: could not settle sandbox', { sandbox: record.id, err });
        await sandboxes.update(record.id, { status: 'ERROR', error: `could not be reconciled after a restart: ${describeFailure(err)}` }).catch(() => undefined);
      }
    }

    for (const [id] of observed) {
      if (recorded.has(id)) continue;
      log.warn('reconcile: deleting an orphan sandbox with no record', { provider: provider.name, sandbox: id });
      try {
        await provider.delete(id);
        report.orphansDeleted++;
      } catch (err) {
        log.error('reconcile: could not delete orphan', { provider: provider.name, sandbox: id, err });
      }
    }
  }

  for (const record of records) {
    if (!providers.find(record.provider) && record.status !== 'ERROR') {
      await sandboxes.update(record.id, { status: 'ERROR', error: `provider ${record.provider} is not configured on this server` });
      report.changed++;
    }
  }
  log.info('reconcile: done', { ...report });
  return report;
}

async function listObserved(provider: Provider, log: Logger): Promise<Map<string, ObservedSandbox> | undefined> {
  try {
    return new Map((await provider.list()).map((o) => [o.id, o]));
  } catch (err) {
    // Without a listing we cannot tell orphans from records; leave everything as recorded.
    log.error('reconcile: provider cannot list its sandboxes; skipping it', { provider: provider.name, err });
    return undefined;
  }
}

/** Brings one record in line with what the provider reports; true when something changed. */
async function settle(
  sandboxes: SandboxRepository,
  provider: Provider,
  record: SandboxRecord,
  seen: ObservedSandbox,
  log: Logger,
): Promise<boolean> {
  const note = (msg: string) => log.warn(`reconcile: ${msg}`, { sandbox: record.id, status: record.status, observed: seen.state, reason: seen.reason });

  if (record.desired_state === 'deleted') {
    note('finishing an interrupted delete');
    await provider.delete(record.id);
    await sandboxes.remove(record.id);
    return true;
  }

  if (record.status === 'INITIALIZING') {
    if (!record.provisioned) {
      note('provisioning was interrupted');
      if (seen.state !== 'missing') await provider.delete(record.id);
      await sandboxes.update(record.id, {
        status: 'ERROR',
        provisioned: 0,
        error: 'provisioning was interrupted by a server restart; start the sandbox to retry, or delete it',
      });
    } else {
      note('start was interrupted');
      if (seen.state === 'running') await provider.stop(record.id);
      await sandboxes.update(record.id, {
        status: 'ERROR',
        provisioned: seen.state === 'missing' ? 0 : 1,
        error: 'start was interrupted by a server restart; start the sandbox again',
      });
    }
    return true;
  }

  if (seen.state === 'missing') {
    if (!record.provisioned) return false; // e.g. ERROR after a failed create: nothing to find.
    note('the provider no longer has this sandbox');
    await sandboxes.update(record.id, {
      status: 'ERROR',
      provisioned: 0,
      error: `the sandbox's files are gone from the provider${seen.reason ? ` (${seen.reason})` : ''}; starting it again creates it afresh from its base`,
    });
    return true;
  }

  if (record.status === 'RUNNING') {
    if (seen.state === 'running') {
      // Give it a full idle period from now: the server was not watching while it was down.
      await sandboxes.update(record.id, { last_active_at: nowIso() });
      return false;
    }
    note('it stopped while the server was down');
    await sandboxes.update(record.id, { status: 'STOPPED', desired_state: 'stopped' });
    return true;
  }

  // STOPPED or ERROR: nothing should be running.
  if (seen.state === 'running') {
    note('stopping a sandbox that runs although its record says it should not');
    await provider.stop(record.id);
    return true;
  }
  return false;
}
