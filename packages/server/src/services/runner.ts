/**
 * Drives the supervisors inside a sandbox through the provider: writes their files, launches,
 * stops and removes them, reads their state and logs. One exec per operation, whatever the
 * number of services. Callers make sure the sandbox runs (and hold its lock for changes).
 */
import { SandboxNotRunningError } from '@pocketenv/runtime';
import type { AppContext } from '../context';
import type { SandboxRecord } from '../db/schema';
import { ProviderFailureError, describeFailure } from '../errors';
import type { ServiceRow } from './repository';
import { controlScript, logsScript, parseStatus, supervisorFiles, type ControlOp, type ObservedService } from './scripts';

/** A stop waits up to ~10 s per service (5 s grace and margin); everything else is quick. */
const timeoutFor = (count: number) => 30_000 + 12_000 * count;

export class ServiceRunner {
  constructor(private readonly ctx: AppContext) {}

  private async run(record: SandboxRecord, what: string, script: string, count: number, env?: Record<string, string>): Promise<string> {
    const provider = this.ctx.orchestrator.providerOf(record);
    let result;
    try {
      result = await provider.exec(record.id, script, { cwd: '/', env, timeoutMs: timeoutFor(count) });
    } catch (err) {
      if (err instanceof SandboxNotRunningError) throw err;
      throw new ProviderFailureError(`could not ${what} in sandbox ${record.name}: ${describeFailure(err)}`, { cause: err });
    }
    if (result.exitCode !== 0 || result.timedOut) {
      const detail = result.stderr.toString('utf8').trim().split('\n').slice(-3).join(' | ');
      throw new ProviderFailureError(`could not ${what} in sandbox ${record.name} (exit code ${result.exitCode}${detail ? `: ${detail}` : ''})`);
    }
    return result.stdout.toString('utf8');
  }

  private control(record: SandboxRecord, op: ControlOp, ids: string[], env?: Record<string, string>): Promise<string> {
    return this.run(record, `${op} services`, controlScript(op, ids), ids.length, env);
  }

  /**
   * (Re)writes the supervisors with the services' current commands and starts those not
   * running. `boot`: these are all the sandbox's services (it just started), so files of
   * services deleted meanwhile go.
   */
  async launch(record: SandboxRecord, services: ServiceRow[], opts: { boot?: boolean } = {}): Promise<void> {
    if (services.length === 0) return;
    const provider = this.ctx.orchestrator.providerOf(record);
    await provider.writeFiles(record.id, services.flatMap((s) => supervisorFiles(s.id, s.command)));
    // The supervisor passes this environment (variables, secrets…) on to the service.
    const env = await this.ctx.orchestrator.execEnv(record);
    await this.control(record, opts.boot ? 'boot' : 'launch', services.map((s) => s.id), env);
  }

  async stop(record: SandboxRecord, ids: string[]): Promise<void> {
    if (ids.length > 0) await this.control(record, 'stop', ids);
  }

  /** Stops the services and deletes their files (logs included). */
  async remove(record: SandboxRecord, ids: string[]): Promise<void> {
    if (ids.length > 0) await this.control(record, 'remove', ids);
  }

  async observe(record: SandboxRecord, ids: string[]): Promise<Map<string, ObservedService>> {
    if (ids.length === 0) return new Map();
    return parseStatus(await this.control(record, 'status', ids));
  }

  /** The last `lines` lines of output, oldest first. */
  async logs(record: SandboxRecord, id: string, lines: number): Promise<string[]> {
    const out = await this.run(record, 'read service logs', logsScript(id, lines), 1);
    const all = out.split('\n');
    if (all[all.length - 1] === '') all.pop();
    return all;
  }
}
