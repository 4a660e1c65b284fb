/** io.pocketenv.server.describeServer: version, public key, providers and bases. No auth. */
import type { Server } from '@atproto/xrpc-server';
import { ISOLATION_LEVELS, type Provider } from '@pocketenv/runtime';
import type { ServerDescribeServer } from '@pocketenv/lexicons';
import type { AppContext } from '../context';
import { installCounts } from '../bases/installs';
import { publicKeyHex } from '../keys';
import { publicMethod } from './method';

/** Probing touches the host (root, overlayfs, cgroups…); a short cache keeps describeServer cheap. */
const PROBE_CACHE_MS = 30_000;

/** Each level, over every provider: available when one of them runs it here. */
async function isolationLevels(ctx: AppContext): Promise<ServerDescribeServer.IsolationLevelInfo[]> {
  const { config } = ctx.isolation;
  const supports = await Promise.all(ctx.providers.all().map((p) => ctx.isolation.levelsOf(p)));
  return ISOLATION_LEVELS.map((name) => {
    const found = supports.flat().filter((s) => s.level === name);
    const available = found.some((s) => s.available);
    const detail = (found.find((s) => s.available) ?? found[0])?.detail;
    return { name, available, allowed: config.allowed.includes(name), default: config.default === name, ...(detail ? { detail: detail.slice(0, 1000) } : {}) };
  });
}

export function registerServerMethods(server: Server, ctx: AppContext): void {
  const probes = new Map<string, { at: number; result: Promise<{ available: boolean; reason?: string }> }>();
  const probe = (p: Provider) => {
    const cached = probes.get(p.name);
    if (cached && Date.now() - cached.at < PROBE_CACHE_MS) return cached.result;
    const result = p.probe().catch((err: unknown) => ({ available: false, reason: `probe failed: ${(err as Error).message}` }));
    probes.set(p.name, { at: Date.now(), result });
    return result;
  };

  publicMethod(server, 'io.pocketenv.server.describeServer', async () => {
    const providers: ServerDescribeServer.ProviderInfo[] = [];
    const baseDetails: ServerDescribeServer.BaseInfo[] = [];
    const installs = await installCounts(ctx.db);
    for (const p of ctx.providers.all()) {
      const { available, reason } = await probe(p);
      providers.push(reason ? { name: p.name, available, reason } : { name: p.name, available });
      for (const b of await p.listBases()) {
        const count = installs.get(`${p.name}/${b.name}`) ?? 0;
        const seen = baseDetails.find((d) => d.name === b.name);
        if (seen) seen.installs = (seen.installs ?? 0) + count;
        else baseDetails.push({ name: b.name, description: b.description, ready: b.ready, installs: count });
      }
    }
    return {
      version: ctx.version,
      publicKey: publicKeyHex(ctx.keys),
      providers,
      bases: baseDetails.map((b) => b.name),
      baseDetails,
      isolationLevels: await isolationLevels(ctx),
    };
  });
}
