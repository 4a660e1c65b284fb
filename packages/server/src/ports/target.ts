/**
 * Where a preview request goes: token → exposed-port row → sandbox → the address its provider
 * reports right now. Nothing from the request but the token and port is used, so a Host
 * header or path can never point the proxy at another machine (no SSRF). The address is
 * looked up for every request (a few ms): a cached one could outlive the sandbox and, after
 * its network is reused, lead into another sandbox.
 */
import { isIP } from 'node:net';
import type { AppContext } from '../context';
import type { SandboxRecord } from '../db/schema';
import type { PreviewTarget } from './preview-url';
import { findByToken } from './repository';

export interface Upstream {
  sandbox: SandboxRecord;
  address: string;
  port: number;
}

export interface Refusal {
  status: number;
  message: string;
}

export async function resolveUpstream(ctx: AppContext, target: PreviewTarget): Promise<Upstream | Refusal> {
  const found = await findByToken(ctx.db, target.token);
  if (!found || found.port.port !== target.port) {
    return { status: 404, message: 'No exposed port here: the preview URL is wrong, or the port was unexposed.' };
  }
  const { sandbox, port } = found;
  if (sandbox.status !== 'RUNNING') {
    return { status: 503, message: `Sandbox ${sandbox.name} is ${sandbox.status.toLowerCase()}; start it to reach port ${port.port}.` };
  }
  const provider = ctx.providers.find(sandbox.provider);
  const seen = await provider?.observe(sandbox.id).catch(() => undefined);
  if (seen?.state !== 'running' || !seen.address || isIP(seen.address) === 0) {
    return { status: 503, message: `Sandbox ${sandbox.name} has no network address right now; is it running?` };
  }
  return { sandbox, address: seen.address, port: port.port };
}

export function isRefusal(value: Upstream | Refusal): value is Refusal {
  return 'status' in value;
}

/** Proxied traffic counts as activity, so the idle reaper leaves a sandbox that is in use alone. */
export class ActivityMeter {
  private readonly last = new Map<string, number>();
  constructor(
    private readonly ctx: AppContext,
    private readonly everyMs = 10_000,
  ) {}

  touch(sandboxId: string): void {
    const now = Date.now();
    if (now - (this.last.get(sandboxId) ?? 0) < this.everyMs) return;
    this.last.set(sandboxId, now);
    void this.ctx.sandboxes.touch(sandboxId).catch(() => undefined);
  }
}
