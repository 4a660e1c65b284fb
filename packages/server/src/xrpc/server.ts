/** io.pocketenv.server.describeServer: version, public key, providers and bases. No auth. */
import type { Server } from '@atproto/xrpc-server';
import type { Provider } from '@pocketenv/runtime';
import type { ServerDescribeServer } from '@pocketenv/lexicons';
import type { AppContext } from '../context';
import { publicKeyHex } from '../keys';
import { publicMethod } from './method';

/** Probing touches the host (root, overlayfs, cgroups…); a short cache keeps describeServer cheap. */
const PROBE_CACHE_MS = 30_000;

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
    for (const p of ctx.providers.all()) {
      const { available, reason } = await probe(p);
      providers.push(reason ? { name: p.name, available, reason } : { name: p.name, available });
      for (const b of await p.listBases()) {
        if (!baseDetails.some((d) => d.name === b.name)) baseDetails.push({ name: b.name, description: b.description, ready: b.ready });
      }
    }
    return {
      version: ctx.version,
      publicKey: publicKeyHex(ctx.keys),
      providers,
      bases: baseDetails.map((b) => b.name),
      baseDetails,
    };
  });
}
