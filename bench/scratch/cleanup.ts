import { LocalProvider } from '../../packages/runtime/src/local/index';
import { readdirSync, rmSync } from 'node:fs';
for (const d of readdirSync('/tmp').filter((d) => d.startsWith('pe-agent-'))) {
  const p = new LocalProvider({ stateDir: '/tmp/' + d });
  for (const s of await p.list()) { await p.delete(s.id); console.log('deleted', s.id); }
  rmSync('/tmp/' + d, { recursive: true, force: true });
}
