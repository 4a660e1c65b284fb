import { startTestServer } from '@pocketenv/server/testing';
import { pocketenv, sandbox } from '@pocketenv/sdk';
const server = await startTestServer();
const client = pocketenv.newClient(server.ownerToken, { baseUrl: server.url });
const sb = await sandbox.create(sandbox.new(client, 'prof', 'debian', 'local'));
const p50 = async (label: string, fn: () => Promise<unknown>) => {
  const t: number[] = [];
  for (let i = 0; i < 40; i++) { const s = performance.now(); await fn(); t.push(performance.now() - s); }
  t.sort((a, b) => a - b); console.log(label, 'p50', t[20].toFixed(2), 'p90', t[36].toFixed(2));
};
await p50('sdk exec', () => sandbox.exec(sb, 'echo ready'));
await p50('raw fetch exec', async () => {
  const r = await fetch(`${server.url}/xrpc/io.pocketenv.sandbox.exec?id=${sb.data.id}`, { method: 'POST', headers: { authorization: `Bearer ${server.ownerToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ command: 'echo ready' }) });
  await r.text();
});
await p50('raw fetch exec true', async () => {
  const r = await fetch(`${server.url}/xrpc/io.pocketenv.sandbox.exec?id=${sb.data.id}`, { method: 'POST', headers: { authorization: `Bearer ${server.ownerToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ command: 'true' }) });
  await r.text();
});
await p50('sdk exec', () => sandbox.exec(sb, 'echo ready'));
await p50('sdk getSandbox', () => sandbox.get(client, sb.data.id));
await p50('describeServer', () => pocketenv.describeServer(client));
await server.close();
