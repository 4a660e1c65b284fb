/**
 * Sandbox networking against the real kernel: "fake sandboxes" are processes in
 * their own user + net + pid namespaces (what the OCI runtime gives the core
 * provider between create and start), plugged in with SandboxNetworks.attach.
 * Traffic only goes to addresses these tests create (10.201/16 sandboxes,
 * 10.202/16 test hosts, the host's own addresses, loopback) and to the npm registry.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressPool } from '../src/local/network/allocation';
import { SandboxNetworks, vethName, type SandboxAddress } from '../src/local/network/index';
import { startTestGitHost, type TestGitHost } from './support/git-host';
import {
  hostLinkExists,
  hostLinks,
  hostPrimaryIpv4,
  mustRunIn,
  probeTcp,
  runIn,
  startFakeSandbox,
  startTcpListener,
  waitUntil,
  type FakeSandbox,
} from './support/netns';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const REPO_ROOT = resolve(HERE, '../../..');
const DRIVER = join(HERE, 'support/network-driver.ts');
const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

const isRoot = process.getuid?.() === 0;
if (!isRoot) {
  console.warn('\n*** network.test.ts SKIPPED: sandbox networking needs root (veth pairs, nft, namespaces) ***\n');
}

const run = randomBytes(3).toString('hex');
const ids = new Set<string>();
const sandboxes: FakeSandbox[] = [];
const cleanups: Array<() => Promise<unknown>> = [];

function newId(name: string): string {
  const id = `nettest-${run}-${name}`;
  ids.add(id);
  return id;
}

async function newSandbox(): Promise<FakeSandbox> {
  const sb = await startFakeSandbox();
  sandboxes.push(sb);
  return sb;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** A node process in another process, kept until the test kills it. */
function startDriver(args: string[], wrapper: string[] = []): { pid: number; output: Promise<string>; kill(): Promise<void> } {
  const argv = [...wrapper, process.execPath, '--import', 'tsx', DRIVER, ...args];
  const child = spawn(argv[0]!, argv.slice(1), { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const output = new Promise<string>((resolveLine, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolveLine(out.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`driver exited (${code}) before answering: ${stderr}`)));
  });
  output.catch(() => undefined);
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  cleanups.push(kill);
  return { pid: child.pid!, output, kill };
}

describe.skipIf(!isRoot)('sandbox networking (local provider)', () => {
  let networks: SandboxNetworks;
  let git: TestGitHost;
  let a: FakeSandbox;
  let b: FakeSandbox;
  let addrA: SandboxAddress;
  let addrB: SandboxAddress;
  const idA = newId('a');
  const idB = newId('b');

  beforeAll(async () => {
    networks = new SandboxNetworks();
    await networks.ensureHostRules();
    git = await startTestGitHost({ hello: { 'README.md': '# hello from the test git host\n', 'src/main.sh': 'echo main\n' } });
    cleanups.push(() => git.close());
    [a, b] = await Promise.all([newSandbox(), newSandbox()]);
    addrA = await networks.attach(idA, a.pid);
    addrB = await networks.attach(idB, b.pid);
  });

  afterAll(async () => {
    // Safety net: the last test cleans up and checks; this also runs when a test failed midway.
    for (const id of ids) await networks?.detach(id).catch(() => undefined);
    for (const sb of sandboxes) await sb.kill();
    for (const undo of cleanups.splice(0).reverse()) await undo().catch(() => undefined);
  });

  it('names host ends pe + 13 hex digits: within the kernel limit, stable and distinct per id', () => {
    const names = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const name = vethName(`sbx_${i}`);
      expect(name).toMatch(/^pe[0-9a-f]{13}$/);
      names.add(name);
    }
    expect(names.size).toBe(20_000);
    expect(vethName('sbx_7')).toBe(vethName('sbx_7'));
  });

  it('plugs a sandbox in: eth0 with its /30, lo up, a default route via the host end', async () => {
    expect(addrA.ifname).toBe(vethName(idA));
    expect(addrA.prefixLength).toBe(30);
    expect(addrA.sandboxIp).toMatch(/^10\.201\.\d+\.\d+$/);
    expect(addrA.sandboxIp).not.toBe(addrB.sandboxIp);

    const host = JSON.parse(await mustRunIn('host', ['ip', '-j', 'addr', 'show', 'dev', addrA.ifname])) as Array<{ operstate: string; addr_info: Array<{ family: string; local: string; prefixlen: number }> }>;
    expect(host[0]!.addr_info.filter((i) => i.family === 'inet').map((i) => `${i.local}/${i.prefixlen}`)).toEqual([`${addrA.hostIp}/30`]);
    expect(host[0]!.addr_info.some((i) => i.family === 'inet6')).toBe(false); // nothing IPv6 on the host end to reach

    const inside = JSON.parse(await mustRunIn({ pid: a.pid }, ['ip', '-j', 'addr', 'show'])) as Array<{ ifname: string; flags: string[]; mtu: number; addr_info: Array<{ family: string; local: string; prefixlen: number }> }>;
    const eth0 = inside.find((l) => l.ifname === 'eth0');
    const lo = inside.find((l) => l.ifname === 'lo');
    expect(eth0?.addr_info.filter((i) => i.family === 'inet').map((i) => `${i.local}/${i.prefixlen}`)).toEqual([`${addrA.sandboxIp}/30`]);
    expect(eth0?.flags).toContain('UP');
    expect(lo?.flags).toContain('UP');
    const routes = JSON.parse(await mustRunIn({ pid: a.pid }, ['ip', '-j', 'route', 'show', 'default'])) as Array<{ gateway: string; dev: string }>;
    expect(routes).toEqual([expect.objectContaining({ gateway: addrA.hostIp, dev: 'eth0' })]);

    // Same MTU as the host's uplink, so big downloads do not stall on a smaller path.
    const uplink = (JSON.parse(await mustRunIn('host', ['ip', '-4', '-j', 'route', 'show', 'default'])) as Array<{ dev: string }>)[0]!.dev;
    expect(eth0?.mtu).toBe(Number(readFileSync(`/sys/class/net/${uplink}/mtu`, 'utf8')));
  });

  it('reaches servers outside the host: a TCP listener in a test-host netns, and git clone over git://', async () => {
    const token = `outside-${randomBytes(4).toString('hex')}`;
    const listener = await startTcpListener({ netns: git.netns }, git.ip, token);
    try {
      expect(await probeTcp({ pid: a.pid }, git.ip, listener.port)).toBe(`got:${token}`);
    } finally {
      await listener.close();
    }

    const remote = await mustRunIn({ pid: a.pid }, ['git', 'ls-remote', git.url('hello')], { timeoutMs: 30_000 });
    expect(remote).toMatch(/^[0-9a-f]{40}\trefs\/heads\/main$/m);
    const dir = mkdtempSync(join(tmpdir(), 'pe-nettest-clone-'));
    try {
      await mustRunIn({ pid: a.pid }, ['git', 'clone', '-q', git.url('hello'), join(dir, 'hello')], { timeoutMs: 30_000 });
      expect(readFileSync(join(dir, 'hello/README.md'), 'utf8')).toBe('# hello from the test git host\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('resolves registry.npmjs.org and gets an HTTPS answer from it (DNS and TLS through NAT)', async () => {
    const script = `
      const dns = require('node:dns').promises;
      const https = require('node:https');
      (async () => {
        const servers = dns.getServers();
        const addresses = await dns.resolve4('registry.npmjs.org'); // a UDP query to the resolver in resolv.conf
        const status = await new Promise((ok, fail) => {
          const req = https.get('https://registry.npmjs.org/-/ping', { timeout: 20000 }, (res) => { res.resume(); ok(res.statusCode); });
          req.on('timeout', () => req.destroy(new Error('timeout')));
          req.on('error', fail);
        });
        console.log(JSON.stringify({ servers, addresses, status }));
      })().catch((e) => console.log(JSON.stringify({ error: String(e) })));`;
    const out = await mustRunIn({ pid: a.pid }, [process.execPath, '-e', script], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: HOST_CA_BUNDLE }, // this machine kind intercepts TLS
      timeoutMs: 60_000,
    });
    const result = JSON.parse(out) as { servers?: string[]; addresses?: string[]; status?: number; error?: string };
    expect(result.error).toBeUndefined();
    expect(result.addresses!.length).toBeGreaterThan(0);
    expect(result.status).toBe(200);
  });

  it('reaches nothing listening on the host: its primary address, its veth end, other host addresses, loopback', async () => {
    const token = `host-${randomBytes(4).toString('hex')}`;
    const server: Server = createServer((c) => c.end(token));
    await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const port = (server.address() as { port: number }).port;
    const primary = await hostPrimaryIpv4();

    // The listener is really there for anyone on the host.
    expect(await probeTcp('host', '127.0.0.1', port)).toBe(`got:${token}`);
    expect(await probeTcp('host', primary, port)).toBe(`got:${token}`);
    expect(await probeTcp('host', addrA.hostIp, port)).toBe(`got:${token}`);

    const fromSandbox = await Promise.all(
      [primary, addrA.hostIp, addrB.hostIp, git.hostIp].map(async (ip) => [ip, await probeTcp({ pid: a.pid }, ip, port)] as const),
    );
    for (const [ip, outcome] of fromSandbox) expect({ ip, outcome }).toEqual({ ip, outcome: 'timeout' });
  });

  it('cannot reach the host loopback even when the sandbox routes 127/8 to the host and the kernel would accept it', async () => {
    const token = `loopback-${randomBytes(4).toString('hex')}`;
    const server: Server = createServer((c) => c.end(token));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const port = (server.address() as { port: number }).port;

    const sb = await newSandbox();
    const id = newId('loopback');
    const addr = await networks.attach(id, sb.pid);
    // Root in the sandbox sends 127.0.0.1 out of eth0 towards the host…
    await mustRunIn({ pid: sb.pid }, [
      'sh',
      '-ec',
      `ip addr flush dev lo; ip route add 127.0.0.0/8 via ${addr.hostIp} dev eth0; sysctl -qw net.ipv4.conf.all.route_localnet=1 net.ipv4.conf.eth0.route_localnet=1`,
    ]);
    // …and the host's martian filter is off for this interface (only the nft rules are left to stop it).
    writeFileSync(`/proc/sys/net/ipv4/conf/${addr.ifname}/route_localnet`, '1');
    expect(await probeTcp({ pid: sb.pid }, '127.0.0.1', port)).toBe('timeout');
    await networks.detach(id);
  });

  it('keeps sandboxes apart while the host reaches both (the port preview path)', async () => {
    const tokenA = `a-${randomBytes(4).toString('hex')}`;
    const tokenB = `b-${randomBytes(4).toString('hex')}`;
    const inA = await startTcpListener({ pid: a.pid }, '0.0.0.0', tokenA);
    const inB = await startTcpListener({ pid: b.pid }, '0.0.0.0', tokenB);
    cleanups.push(inA.close, inB.close);

    expect(await probeTcp('host', addrA.sandboxIp, inA.port)).toBe(`got:${tokenA}`);
    expect(await probeTcp('host', addrB.sandboxIp, inB.port)).toBe(`got:${tokenB}`);
    const [aToB, bToA] = await Promise.all([probeTcp({ pid: a.pid }, addrB.sandboxIp, inB.port), probeTcp({ pid: b.pid }, addrA.sandboxIp, inA.port)]);
    expect(aToB).toBe('timeout');
    expect(bToA).toBe('timeout');
    // Nor from outside the host: a test host that routes 10.201/16 via us gets nothing in.
    await mustRunIn('host', ['ip', '-n', git.netns, 'route', 'replace', '10.201.0.0/16', 'via', git.hostIp]);
    expect(await probeTcp({ netns: git.netns }, addrB.sandboxIp, inB.port)).toBe('timeout');
    await inA.close();
    await inB.close();
  });

  it('attach is idempotent: same address, one interface, still connected', async () => {
    const again = await networks.attach(idA, a.pid);
    expect(again).toEqual(addrA);
    expect(hostLinks().filter((n) => n === addrA.ifname)).toHaveLength(1);
    const eth = JSON.parse(await mustRunIn({ pid: a.pid }, ['ip', '-j', '-4', 'addr', 'show', 'dev', 'eth0'])) as Array<{ addr_info: unknown[] }>;
    expect(eth[0]!.addr_info).toHaveLength(1);
    expect((await runIn({ pid: a.pid }, ['git', 'ls-remote', git.url('hello')], { timeoutMs: 30_000 })).code).toBe(0);
    // Concurrent calls for one id agree too.
    const both = await Promise.all([networks.attach(idA, a.pid), networks.attach(idA, a.pid)]);
    expect(both).toEqual([addrA, addrA]);
  });

  it('refuses a pid that lives in the host network namespace, and touches nothing on the host', async () => {
    const id = newId('hostns');
    // Other workers add sandbox routes meanwhile: look at what a mistake would have changed.
    const uplink = (JSON.parse(await mustRunIn('host', ['ip', '-4', '-j', 'route', 'show', 'default'])) as Array<{ dev: string }>)[0]!.dev;
    const hostSide = async () => [
      await mustRunIn('host', ['ip', 'route', 'show', 'default']),
      await mustRunIn('host', ['ip', 'addr', 'show', 'dev', uplink]),
    ];
    const before = await hostSide();
    await expect(networks.attach(id, process.pid)).rejects.toThrow(/host's network namespace/);
    expect(await hostSide()).toEqual(before);
    expect(hostLinkExists(vethName(id))).toBe(false);
    expect(await networks.addressOf(id)).toBeUndefined();
  });

  it('detach removes the interface (both ends) and frees the address; repeated attach/detach cycles leave nothing', async () => {
    const sb = await newSandbox();
    const id = newId('cycle');
    const attachMs: number[] = [];
    const detachMs: number[] = [];
    for (let i = 0; i < 7; i++) {
      let t = performance.now();
      const addr = await networks.attach(id, sb.pid);
      attachMs.push(performance.now() - t);
      expect(hostLinkExists(addr.ifname)).toBe(true);
      expect(await networks.listAllocations()).toContain(id);
      t = performance.now();
      await networks.detach(id);
      detachMs.push(performance.now() - t);
      expect(hostLinkExists(addr.ifname)).toBe(false);
      expect((await runIn({ pid: sb.pid }, ['ip', 'link', 'show', 'eth0'])).code).not.toBe(0);
      expect(await networks.addressOf(id)).toBeUndefined();
      expect(await networks.listAllocations()).not.toContain(id);
    }
    console.log(`attach median ${median(attachMs).toFixed(1)} ms, detach median ${median(detachMs).toFixed(1)} ms (7 cycles, not asserted)`);
    await networks.detach(id); // again: nothing to do, no error
    await networks.detach(newId('never-attached'));
  });

  it('two SandboxNetworks instances (two drivers) share one allocation space and never collide', async () => {
    const other = new SandboxNetworks();
    const fakes = await Promise.all(Array.from({ length: 6 }, () => newSandbox()));
    const pairIds = fakes.map((_, i) => newId(`pair-${i}`));
    const addrs = await Promise.all(fakes.map((sb, i) => (i % 2 ? other : networks).attach(pairIds[i]!, sb.pid)));
    expect(new Set(addrs.map((x) => x.hostIp)).size).toBe(6);
    expect(new Set(addrs.map((x) => x.sandboxIp)).size).toBe(6);
    for (const [i, id] of pairIds.entries()) {
      expect(await (i % 2 ? networks : other).addressOf(id)).toEqual(addrs[i]); // each sees the other's
    }
    await Promise.all(pairIds.map((id, i) => (i % 2 ? networks : other).detach(id)));
    for (const id of pairIds) expect(hostLinkExists(vethName(id))).toBe(false);
  });

  it('allocations from concurrently running processes never collide', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pe-nettest-alloc-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const startAt = Date.now() + 2500; // all three start claiming at the same moment
    const drivers = [0, 1, 2].map((p) => startDriver(['allocate', dir, `proc${p}`, '40', String(startAt)]));
    const results = (await Promise.all(drivers.map((d) => d.output))).map((line) => JSON.parse(line) as Record<string, number>);
    const indexes = results.flatMap((r) => Object.values(r));
    expect(indexes).toHaveLength(120);
    expect(new Set(indexes).size).toBe(120);
    const pool = new AddressPool({ dir, network: '10.201.0.0/16' });
    expect(await pool.owners()).toHaveLength(120);
    expect((await pool.lookup('proc1-7'))?.index).toBe(results[1]!['proc1-7']);
  });

  it('after a driver is killed with -9, the next one lists its allocations and detach cleans up', async () => {
    const [gone, alive] = await Promise.all([newSandbox(), newSandbox()]);
    const idGone = newId('crash-gone');
    const idAlive = newId('crash-alive');
    const driver = startDriver(['attach', `${idGone}=${gone.pid}`, `${idAlive}=${alive.pid}`]);
    const before = JSON.parse(await driver.output) as Record<string, SandboxAddress>;
    await driver.kill();
    await gone.kill(); // this sandbox died with its driver: its veth goes with its netns
    await waitUntil(() => !hostLinkExists(vethName(idGone)), 10_000, 'the dead sandbox veth to disappear');

    const next = new SandboxNetworks();
    expect(await next.listAllocations()).toEqual(expect.arrayContaining([idGone, idAlive]));
    expect(await next.addressOf(idGone)).toEqual(before[idGone]);
    expect(await next.addressOf(idAlive)).toEqual(before[idAlive]);
    expect(hostLinkExists(vethName(idAlive))).toBe(true); // the surviving sandbox is still plugged in

    await next.detach(idGone);
    await next.detach(idAlive);
    expect(hostLinkExists(vethName(idAlive))).toBe(false);
    const left = await next.listAllocations();
    expect(left).not.toContain(idGone);
    expect(left).not.toContain(idAlive);
  });

  it('host rules: one static table, re-applied idempotently, nothing per sandbox, forwarding on', async () => {
    const table = () => mustRunIn('host', ['nft', 'list', 'table', 'inet', 'pocketenv']);
    await networks.ensureHostRules();
    await new SandboxNetworks().ensureHostRules();
    const rules = await table();
    const tables = (await mustRunIn('host', ['nft', 'list', 'tables'])).split('\n').filter((l) => l.trim() === 'table inet pocketenv');
    expect(tables).toHaveLength(1);
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe('1');
    expect(rules).toContain('iifname "pe*" oifname "pe*" drop');
    expect(rules).toContain('ip saddr 10.201.0.0/16 oifname != "pe*" masquerade');

    const sb = await newSandbox();
    const id = newId('rules');
    const addr = await networks.attach(id, sb.pid);
    expect(await table()).toBe(rules);
    expect((await mustRunIn('host', ['nft', 'list', 'ruleset'])).includes(addr.ifname)).toBe(false);
    await networks.detach(id);
  });

  it('ensureHostRules turns forwarding on and installs one table; removeHostRules takes it away (in a throwaway netns)', async () => {
    // Removing the table on the real host would strip every running sandbox of NAT and isolation.
    // A new netns copies the host's IPv4 settings: switch forwarding off to see ensureHostRules turn it on.
    const driver = startDriver(['rules'], ['unshare', '--net', '--', 'sh', '-c', 'echo 0 > /proc/sys/net/ipv4/ip_forward && exec "$0" "$@"']);
    const r = JSON.parse(await driver.output) as Record<string, string>;
    expect(r.forwardingBefore).toBe('0');
    expect(r.forwardingAfter).toBe('1');
    expect(r.tablesBefore).not.toContain('pocketenv');
    expect(r.tablesAfterEnsure!.split('\n').filter((l) => l.trim() === 'table inet pocketenv')).toHaveLength(1);
    expect(r.tablesAfterRemove).not.toContain('pocketenv');
  });

  it('cleanup leaves no interfaces, allocations or namespaces behind', async () => {
    for (const id of ids) await networks.detach(id);
    for (const sb of sandboxes) await sb.kill();
    const netns = git.netns;
    await git.close();
    const links = hostLinks();
    for (const id of ids) expect(links).not.toContain(vethName(id));
    expect(links.filter((n) => n.startsWith('pgt') && netns.endsWith(n.slice(3)))).toEqual([]);
    expect((await mustRunIn('host', ['ip', 'netns', 'list'])).includes(netns)).toBe(false);
    const allocated = await networks.listAllocations();
    for (const id of ids) expect(allocated).not.toContain(id);
  });
});
