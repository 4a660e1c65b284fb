import { LocalProvider } from '../../packages/runtime/src/local/index';
import { mkdtempSync } from 'node:fs';
const p = new LocalProvider({ stateDir: mkdtempSync('/tmp/pe-agent-') });
const ids: string[] = [];
for (let i = 0; i < 10; i++) {
  const id = 'tput' + i + Date.now().toString(36);
  await p.create({ id, hostname: 'h' + i, base: 'debian', resources: { vcpus: 1, memoryGiB: 1, diskGiB: 3, pids: 1024 } });
  await p.start(id);
  ids.push(id);
}
for (const n of [100, 500]) {
  const t = performance.now();
  let bad = 0;
  await Promise.all(Array.from({ length: n }, (_, i) => p.exec(ids[i % ids.length]!, 'echo ready').then((r) => { if (r.stdout.toString() !== 'ready\n') { bad++; if (bad < 3) console.log(JSON.stringify({ ...r, stdout: r.stdout.toString(), stderr: r.stderr.toString() })); } })));
  const s = (performance.now() - t) / 1000;
  console.log(n, 'concurrent provider.exec:', (n / s).toFixed(0), 'exec/s', 'bad', bad);
}
for (const id of ids) await p.delete(id);
