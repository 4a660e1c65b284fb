import { LocalProvider } from '../../packages/runtime/src/local/index';
import { execViaAgent } from '../../packages/runtime/src/local/agent/client';
import { mkdtempSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
const stateDir = mkdtempSync('/tmp/pe-agent-');
const p = new LocalProvider({ stateDir });
const id = 'agentprof' + Date.now().toString(36);
await p.create({ id, hostname: id, base: 'debian', resources: { vcpus: 1, memoryGiB: 1, diskGiB: 3, pids: 512 } });
await p.start(id);
await p.exec(id, 'true');
const sock = `/run/pocketenv/agent/${id}/agent.sock`;
const env = ['PATH=/usr/bin:/bin'];
async function one(args: string[]) {
  const a = (await execViaAgent(sock, { terminal: false, user: { uid: 0, gid: 0 }, args, env, cwd: '/' } as any))!;
  a.stdout.resume(); a.stderr.resume(); a.stdin.end();
  await a.exited;
  await new Promise((r) => a.stdout.once('close', r));
}
for (const [label, args] of [['sh -c echo', ['/bin/sh', '-c', 'echo ready']], ['/bin/true', ['/bin/true']]] as const) {
  const t: number[] = [];
  for (let i = 0; i < 60; i++) { const s = performance.now(); await one([...args]); t.push(performance.now() - s); }
  t.sort((a, b) => a - b); console.log(label, 'p50', t[30].toFixed(2), 'p90', t[54].toFixed(2));
}
const t2: number[] = [];
for (let i = 0; i < 60; i++) { const s = performance.now(); await p.exec(id, 'echo ready'); t2.push(performance.now() - s); }
t2.sort((a, b) => a - b); console.log('provider.exec p50', t2[30].toFixed(2));
const pid = JSON.parse(execFileSync('crun', ['--root', stateDir + '/oci', 'state', 'pe-' + id]).toString()).pid;
const t3: number[] = [];
for (let i = 0; i < 30; i++) { const s = performance.now(); execFileSync('nsenter', ['-t', String(pid), '--all', '--root', '--wd=/', 'sh', '-c', 'echo ready']); t3.push(performance.now() - s); }
t3.sort((a, b) => a - b); console.log('nsenter sync p50', t3[15].toFixed(2));
const t4: number[] = [];
for (let i = 0; i < 30; i++) { const s = performance.now(); execFileSync('sh', ['-c', 'echo ready']); t4.push(performance.now() - s); }
t4.sort((a, b) => a - b); console.log('host sh sync p50', t4[15].toFixed(2));
await p.delete(id);
