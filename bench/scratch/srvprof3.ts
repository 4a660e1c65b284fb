import { launch } from '../../packages/server/src/server';
import { mkdtempSync } from 'node:fs';
const { server, ctx } = await launch({ port: 0, dataDir: mkdtempSync('/tmp/pe-srvprof-'), log: false });
const timings: Record<string, number[]> = {};
const wrap = (obj: any, name: string, label: string) => {
  const orig = obj[name].bind(obj);
  obj[name] = async (...a: any[]) => { const s = performance.now(); try { return await orig(...a); } finally { (timings[label] ??= []).push(performance.now() - s); } };
};
wrap(ctx.orchestrator, 'exec', 'orchestrator.exec');
wrap(ctx.sandboxes, 'findOwned', 'findOwned');
wrap(ctx.actors, 'findByToken', 'findByToken');
const h = { authorization: `Bearer ${server.ownerToken}`, 'content-type': 'application/json' };
const cr = await fetch(`${server.url}/xrpc/io.pocketenv.sandbox.createSandbox`, { method: 'POST', headers: h, body: JSON.stringify({ base: 'debian' }) });
const sb = await cr.json() as any;
const prov = ctx.providers.all()[0]!;
wrap(prov, 'exec', 'provider.exec');
const { monitorEventLoopDelay } = await import('node:perf_hooks');
const h2 = monitorEventLoopDelay({ resolution: 1 }); h2.enable();
const total: number[] = [];
for (let i = 0; i < 40; i++) {
  const s = performance.now();
  const r = await fetch(`${server.url}/xrpc/io.pocketenv.sandbox.exec?id=${sb.id}`, { method: 'POST', headers: h, body: JSON.stringify({ command: 'echo ready' }) });
  await r.text();
  total.push(performance.now() - s);
}
timings.total = total;
h2.disable(); console.log('event loop delay p50', (h2.percentile(50) / 1e6).toFixed(2), 'p99', (h2.percentile(99) / 1e6).toFixed(2), 'max', (h2.max / 1e6).toFixed(2));
const direct: number[] = [];
for (let i = 0; i < 40; i++) { const s0 = performance.now(); await prov.exec(sb.id, 'echo ready'); direct.push(performance.now() - s0); }
timings.directAfter = direct;
const { existsSync } = await import('node:fs');
console.log('socket exists', existsSync(`/run/pocketenv/agent/${sb.id}/agent.sock`));
console.log((await prov.exec(sb.id, 'ps -eo pid,args')).stdout.toString());
for (const [k, v] of Object.entries(timings)) { const s = [...v].sort((a, b) => a - b); console.log(k.padEnd(20), 'n', v.length, 'p50', s[Math.floor(s.length / 2)]!.toFixed(2)); }
await fetch(`${server.url}/xrpc/io.pocketenv.sandbox.deleteSandbox?id=${sb.id}`, { method: 'POST', headers: h, body: '{}' });
await server.close();
