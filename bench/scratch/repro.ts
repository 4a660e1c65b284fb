import { LocalProvider } from '../../packages/runtime/src/local/index';
import { mkdtempSync } from 'node:fs';
const p = new LocalProvider({ stateDir: mkdtempSync('/tmp/pe-agent-') });
const res = { vcpus: 1, memoryGiB: 1, diskGiB: 3, pids: 512 };
let bad = 0;
for (let i = 0; i < 15; i++) {
  const id = 'repro' + i + Date.now().toString(36);
  await p.create({ id, hostname: 'pocketenv-pool', base: 'debian', resources: res });
  await p.start(id);
  await new Promise((r) => setTimeout(r, 200));
  await p.setHostname(id, 'named-' + i);
  await p.start(id, { env: { A: 'b' }, files: [], volumes: [] });
  const r = await p.exec(id, 'echo ready');
  if (r.stdout.toString() !== 'ready\n') { bad++; console.log('BAD', JSON.stringify({ ...r, stdout: r.stdout.toString(), stderr: r.stderr.toString() })); }
  await p.delete(id);
}
console.log('bad', bad);
