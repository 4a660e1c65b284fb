import { launch } from '../../packages/server/src/server';
import { mkdtempSync } from 'node:fs';
const { server, ctx } = await launch({ port: 0, dataDir: mkdtempSync('/tmp/pe-srvprof-'), log: false });
const owner = (await ctx.actors.findByToken?.(server.ownerToken)) as any;
const actor = owner ?? (await (ctx as any).actors.list?.())?.[0];
const rec = await ctx.orchestrator.create(actor ?? { id: (await ctx.db.selectFrom('actors' as any).selectAll().executeTakeFirst() as any).id } as any, { base: 'debian' });
const provider = ctx.orchestrator.providerOf(rec);
const p50 = async (label: string, fn: () => Promise<unknown>) => {
  const t: number[] = [];
  for (let i = 0; i < 60; i++) { const s = performance.now(); await fn(); t.push(performance.now() - s); }
  t.sort((a, b) => a - b); console.log(label.padEnd(20), 'p50', t[30].toFixed(2), 'p90', t[54].toFixed(2));
};
for (let round = 0; round < 2; round++) {
  await p50('provider.exec', () => provider.exec(rec.id, 'echo ready'));
  await p50('orchestrator.exec', () => ctx.orchestrator.exec(rec, { command: 'echo ready' }));
  await p50('execEnv', () => ctx.orchestrator.execEnv(rec));
  await p50('touch', () => ctx.sandboxes.touch(rec.id));
  await p50('observe', () => provider.observe(rec.id));
}
await ctx.orchestrator.delete(rec);
await server.close();
