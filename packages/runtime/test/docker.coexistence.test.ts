/**
 * The local and docker providers on one host at once: Docker's iptables rules (its FORWARD
 * chain and policy) and our two nft tables must not break each other's traffic. A local
 * sandbox and a docker sandbox, both running: each reaches a server outside the host (egress
 * through the host's forwarding), neither reaches the host's own services, neither reaches the
 * other, and the host reaches a port in each (the preview proxy's path).
 */
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxNetworks } from '../src/local/network/index';
import { startTestGitHost, type TestGitHost } from './support/git-host';
import { canConnect, hostPrimaryIpv4 } from './support/netns';
import { dockerUnavailableReason, tempDockerProvider, warnDockerSkipped } from './support/docker';
import { createSpec, localUnavailableReason, tempProvider, uniqueId } from './support/local';

const unavailable = dockerUnavailableReason() ?? localUnavailableReason();
warnDockerSkipped('docker.coexistence.test.ts', unavailable);

describe.skipIf(!!unavailable)('local and docker sandboxes on one host', () => {
  const local = tempProvider();
  const dock = tempDockerProvider('pe-docker-coexist-');
  const l = uniqueId('cxl');
  const d = uniqueId('cxd');
  let gitHost: TestGitHost;
  let hostService: Server;
  let hostPort = 0;
  const hits: string[] = [];
  const addr = { l: '', d: '' };

  const sh = async (provider: 'l' | 'd', command: string) => {
    const r = await (provider === 'l' ? local.provider.exec(l, command, { timeoutMs: 60_000 }) : dock.provider.exec(d, command, { timeoutMs: 60_000 }));
    return { out: r.stdout.toString(), err: r.stderr.toString(), code: r.exitCode };
  };
  const reaches = async (from: 'l' | 'd', host: string, port: number) =>
    (await sh(from, `curl -sS -m 3 -o /dev/null http://${host}:${port}/ 2>&1; echo "exit=$?"`)).out.includes('exit=0');
  const serve = async (from: 'l' | 'd', port: number) => {
    const r = await sh(from, `nohup python3 -m http.server ${port} --bind 0.0.0.0 >/dev/null 2>&1 & echo started`);
    expect(r.code, r.err).toBe(0);
  };

  beforeAll(async () => {
    gitHost = await startTestGitHost({ demo: { 'README.md': 'coexistence\n' } });
    hostService = createServer((c) => {
      hits.push('hit');
      c.end('HTTP/1.0 200 OK\r\n\r\nhost\n');
    });
    await new Promise<void>((r) => hostService.listen(0, '0.0.0.0', r));
    hostPort = (hostService.address() as { port: number }).port;
    await local.provider.create(createSpec(l));
    await dock.provider.create(createSpec(d));
    await local.provider.start(l);
    await dock.provider.start(d);
    addr.l = (await local.provider.observe(l)).address!;
    addr.d = (await dock.provider.observe(d)).address!;
    await serve('l', 8081);
    await serve('d', 8081);
  }, 300_000);

  afterAll(async () => {
    hostService?.close();
    await local.provider.delete(l).catch(() => undefined);
    await dock.provider.delete(d).catch(() => undefined);
    await local.cleanup();
    await rm(dock.stateDir, { recursive: true, force: true });
    await gitHost?.close();
  });

  it("lifts Docker's FORWARD drop for the local provider's interfaces only in DOCKER-USER", () => {
    const rules = execFileSync('iptables', ['-w', '5', '-S', 'DOCKER-USER'], { encoding: 'utf8' });
    expect(rules).toContain('-A DOCKER-USER -i pe+ -j ACCEPT');
    expect(rules).toContain('-A DOCKER-USER -o pe+ -j ACCEPT');
  });

  it("both reach a server outside the host (git clone through the host), also under the FORWARD drop policy Docker sets on a fresh host", async () => {
    const clone = async () => {
      for (const p of ['l', 'd'] as const) {
        const r = await sh(p, `rm -rf /tmp/c && git clone -q ${gitHost.url('demo')} /tmp/c && cat /tmp/c/README.md`);
        expect(r.code, `${p}: ${r.err}`).toBe(0);
        expect(r.out).toBe('coexistence\n');
      }
    };
    await clone();
    // dockerd only sets the drop policy when it had to turn forwarding on itself (here the local
    // provider did first); set it for a few seconds, as a host that booted Docker first has it.
    const policy = /^-P FORWARD (\w+)/m.exec(execFileSync('iptables', ['-w', '5', '-S', 'FORWARD'], { encoding: 'utf8' }))?.[1] ?? 'ACCEPT';
    execFileSync('iptables', ['-w', '5', '-P', 'FORWARD', 'DROP']);
    try {
      await clone();
    } finally {
      execFileSync('iptables', ['-w', '5', '-P', 'FORWARD', policy]);
    }
  });

  it("neither reaches the host's own services", async () => {
    const gatewayL = (await new SandboxNetworks().addressOf(l))?.hostIp;
    const gatewayD = (await sh('d', "ip -4 route show default | awk '{print $3}'")).out.trim();
    for (const [p, gateway] of [['l', gatewayL!], ['d', gatewayD]] as const) {
      for (const host of [await hostPrimaryIpv4(), gateway, '127.0.0.1']) {
        expect(await reaches(p, host, hostPort), `${p} reached ${host}:${hostPort}`).toBe(false);
      }
    }
    expect(hits).toEqual([]);
  });

  it('neither reaches the other, and the host reaches both (the preview path)', async () => {
    for (const a of [addr.l, addr.d]) {
      const deadline = Date.now() + 20_000;
      while (!(await canConnect(a, 8081, 1000)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(await canConnect(a, 8081, 3000), `host reaches ${a}:8081`).toBe(true);
    }
    expect(await reaches('l', addr.d, 8081), 'local sandbox reached the docker sandbox').toBe(false);
    expect(await reaches('d', addr.l, 8081), 'docker sandbox reached the local sandbox').toBe(false);
  });
});
