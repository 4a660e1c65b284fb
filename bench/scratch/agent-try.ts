import { LocalProvider } from '/work/main/packages/runtime/src/local/index';
import { mkdtempSync } from 'node:fs';
const p = new LocalProvider({ stateDir: mkdtempSync('/tmp/pe-agent-') });
const id = 'agenttry' + Date.now().toString(36);
await p.create({ id, hostname: id, base: 'debian', resources: { vcpus: 1, memoryGiB: 1, diskGiB: 3, pids: 512 } });
let t = performance.now(); await p.start(id); console.log('start', performance.now() - t);
for (let i = 0; i < 5; i++) { t = performance.now(); const r = await p.exec(id, 'echo ready; cat /proc/self/status | grep -E "Seccomp|NoNewPrivs|CapEff"; cat /proc/self/cgroup | head -3; hostname'); console.log(performance.now() - t, JSON.stringify(r.stdout.toString()), r.stderr.toString(), r.exitCode); }
const times: number[] = [];
for (let i = 0; i < 50; i++) { t = performance.now(); await p.exec(id, 'echo ready'); times.push(performance.now() - t); }
times.sort((a, b) => a - b); console.log('p50', times[25]);
console.log((await p.exec(id, 'ps -eo pid,rss,args')).stdout.toString());
await p.delete(id);
