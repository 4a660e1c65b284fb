import { pocketenv, sandbox } from '@pocketenv/sdk';
import { BenchServer } from '../lib/server';
const s = await BenchServer.start('trace', { POCKETENV_POOL_SIZE: '1' });
await s.next((l) => l.msg === 'pool.ready');
await new Promise((r) => setTimeout(r, 1000));
const client = pocketenv.newClient(s.token, { baseUrl: s.url });
for (let i = 0; i < 3; i++) {
  const from = s.logs.length;
  const t0 = Date.now();
  const sb = await sandbox.create(sandbox.new(client, undefined, 'debian', 'local'));
  const t1 = Date.now();
  await sandbox.start(sb);
  const t2 = Date.now();
  await sandbox.exec(sb, 'echo ready');
  const t3 = Date.now();
  console.log('create', t1 - t0, 'start', t2 - t1, 'exec', t3 - t2);
  for (const l of s.logs.slice(from)) console.log(' ', (l.time as string).slice(17, 23), l.msg, l.step ?? '', l.to ?? '', l.path ?? '', l.ms ?? '', l.pooled ?? '');
  await sandbox.delete(sb);
  await s.next((l) => l.msg === 'pool.ready');
  await new Promise((r) => setTimeout(r, 300));
}
await s.stop();
