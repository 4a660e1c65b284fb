/**
 * A separate process driving sandbox networking, for tests about several
 * processes at once and about a driver that is kill -9'd. Run with
 * `node --import tsx network-driver.ts <mode> …`; prints one JSON line.
 *
 *   attach <id>=<pid>…                      attach each, print the addresses, then wait to be killed
 *   rules                                   ensure the host rules twice, remove them twice; print what nft and
 *                                           ip_forward showed (run it inside a throwaway netns: it changes the netns it runs in)
 *   allocate <allocDir> <prefix> <count> <startAtMs>
 *                                           at startAtMs, claim <count> blocks concurrently, print their indexes, exit
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { AddressPool } from '../../src/local/network/allocation';
import { SandboxNetworks } from '../../src/local/network/index';

const [mode, ...args] = process.argv.slice(2);

if (mode === 'attach') {
  const networks = new SandboxNetworks();
  const out: Record<string, unknown> = {};
  for (const pair of args) {
    const [id, pid] = pair.split('=');
    out[id!] = await networks.attach(id!, Number(pid));
  }
  console.log(JSON.stringify(out));
  setInterval(() => undefined, 60_000); // a live driver, until the test kills it
} else if (mode === 'rules') {
  const tables = () => execFileSync('nft', ['list', 'tables']).toString();
  const networks = new SandboxNetworks();
  const forwardingBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
  const tablesBefore = tables();
  await networks.ensureHostRules();
  await networks.ensureHostRules();
  const tablesAfterEnsure = tables();
  const forwardingAfter = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
  await networks.removeHostRules();
  await networks.removeHostRules();
  console.log(JSON.stringify({ forwardingBefore, forwardingAfter, tablesBefore, tablesAfterEnsure, tablesAfterRemove: tables() }));
} else if (mode === 'allocate') {
  const [dir, prefix, count, startAt] = args;
  const pool = new AddressPool({ dir: dir!, network: '10.201.0.0/16' });
  await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())));
  const owners = Array.from({ length: Number(count) }, (_, i) => `${prefix}-${i}`);
  const blocks = await Promise.all(owners.map((o) => pool.allocate(o)));
  console.log(JSON.stringify(Object.fromEntries(owners.map((o, i) => [o, blocks[i]!.block.index]))));
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
