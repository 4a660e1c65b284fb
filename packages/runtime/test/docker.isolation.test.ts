/**
 * What a process inside a docker sandbox can and cannot see or do: root inside but (with the
 * engine's remapping) an unprivileged uid range on the host, exactly the local provider's
 * capabilities, no privileges, seccomp; no host service, no other container, no published host
 * port; while the host still reaches its ports (the preview path). Limits hold: pids, memory,
 * CPU quota, and disk where the storage driver enforces it.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, parseEndpoint, defaultEndpoint } from '../src/docker/connection';
import { containerName } from '../src/docker/labels';
import { engineFacts } from '../src/docker/lifecycle';
import { canConnect, hostPrimaryIpv4 } from './support/netns';
import { dockerUnavailableReason, tempDockerProvider, warnDockerSkipped } from './support/docker';
import { createSpec, uniqueId } from './support/local';
import { rm } from 'node:fs/promises';

const unavailable = dockerUnavailableReason();
warnDockerSkipped('docker.isolation.test.ts', unavailable);

describe.skipIf(!!unavailable)('docker sandbox isolation', () => {
  const { provider, stateDir } = tempDockerProvider('pe-docker-iso-');
  const docker = connect(parseEndpoint(defaultEndpoint()));
  const a = uniqueId('dkisoa');
  const b = uniqueId('dkisob');
  const limited = uniqueId('dkisol');
  const limits = { vcpus: 0.5, memoryGiB: 0.25, diskGiB: 1, pids: 64 };

  const sh = async (id: string, command: string, timeoutMs = 60_000) => {
    const r = await provider.exec(id, command, { timeoutMs });
    return { out: r.stdout.toString(), err: r.stderr.toString(), code: r.exitCode, timedOut: r.timedOut };
  };
  const ok = async (id: string, command: string, timeoutMs?: number) => {
    const r = await sh(id, command, timeoutMs);
    expect(r.code, `${command}\n${r.err}`).toBe(0);
    return r.out;
  };
  /** From inside `id`: does a TCP connection to host:port succeed within 3 s? */
  const reaches = async (id: string, host: string, port: number) =>
    (await sh(id, `curl -sS -m 3 -o /dev/null http://${host}:${port}/ 2>&1; echo "exit=$?"`)).out;

  beforeAll(async () => {
    for (const id of [a, b]) await provider.create(createSpec(id));
    await provider.create(createSpec(limited, { resources: limits }));
    for (const id of [a, b, limited]) await provider.start(id);
  }, 300_000);

  afterAll(async () => {
    for (const id of [a, b, limited]) await provider.delete(id).catch(() => undefined);
    await rm(stateDir, { recursive: true, force: true });
  });

  it('runs tini as pid 1 with the sandbox name as hostname', async () => {
    expect(await ok(a, "tr '\\0' ' ' < /proc/1/cmdline")).toMatch(/^\/sbin\/docker-init -- sleep infinity $/);
    expect(await ok(a, 'hostname')).toBe(`box-${a}\n`);
  });

  it('is root inside, an unprivileged uid range on the host when the engine remaps, with the local provider\'s capabilities but NET_RAW', async () => {
    expect((await ok(a, 'id -u')).trim()).toBe('0');
    const facts = await engineFacts(docker);
    const uidMap = (await ok(a, 'cat /proc/self/uid_map')).trim().split(/\s+/);
    if (facts.remappedRoot) expect(uidMap).toEqual(['0', String(facts.remappedRoot.uid), '65536']);
    else console.warn('*** docker.isolation: the engine does not remap user namespaces; container root is host root (see README) ***');
    // The local provider's set (Docker's default) minus NET_RAW: CHOWN DAC_OVERRIDE FOWNER FSETID
    // KILL SETGID SETUID SETPCAP NET_BIND_SERVICE SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP.
    expect(await ok(a, "grep -E '^Cap(Eff|Bnd)' /proc/self/status | awk '{print $2}'")).toBe('00000000a80405fb\n'.repeat(2));
    // So no raw socket (ARP or IP spoofing on the shared bridge), while ping works (ICMP datagram sockets).
    expect((await sh(a, `python3 -c 'import socket; socket.socket(socket.AF_PACKET, socket.SOCK_RAW)'`)).code).not.toBe(0);
    expect((await sh(a, `python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)'`)).code).not.toBe(0);
    expect((await sh(a, `python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)'`)).code).toBe(0);
    expect(await ok(a, "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status")).toMatch(/^NoNewPrivs:\s+1\nSeccomp:\s+2\n$/);
    for (const cmd of ['mount -t tmpfs none /mnt', 'ip link add pe0 type dummy', 'echo 1 > /proc/sys/kernel/sysrq', 'unshare -r true', 'sysctl -w net.ipv4.ip_forward=0']) {
      expect((await sh(a, cmd)).code, cmd).not.toBe(0);
    }
    expect(await ok(a, 'cat /proc/timer_list /proc/keys | wc -c')).toBe('0\n');
  });

  it('is created unprivileged, with every capability dropped but that set, and only read-only host mounts of ours', async () => {
    const info = await docker.getContainer(containerName(a)).inspect();
    expect(info.HostConfig.Privileged).toBe(false);
    expect(info.HostConfig.CapDrop).toEqual(['ALL']);
    expect(info.HostConfig.SecurityOpt).toContain('no-new-privileges:true');
    expect(info.HostConfig.NetworkMode).toBe('pocketenv');
    for (const m of info.Mounts) {
      expect(m.Type, JSON.stringify(m)).toBe('bind');
      expect(m.RW, JSON.stringify(m)).toBe(false);
      expect(['/etc/ssl/certs/ca-certificates.crt', '/opt/pocketenv/tools']).toContain(m.Destination);
    }
    expect((await sh(a, 'echo x >> /etc/ssl/certs/ca-certificates.crt')).code).not.toBe(0);
  });

  it('cannot reach the host (any address, loopback) nor another container, while the host reaches both', async () => {
    const hits: string[] = [];
    const server: Server = createServer((c) => {
      hits.push('hit');
      c.end('HTTP/1.0 200 OK\r\n\r\nhost-service\n');
    });
    await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
    const port = (server.address() as { port: number }).port;
    try {
      const addrA = (await provider.observe(a)).address!;
      const addrB = (await provider.observe(b)).address!;
      expect(addrA).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      const gateway = (await ok(a, "ip -4 route show default | awk '{print $3}'")).trim();
      for (const host of [await hostPrimaryIpv4(), gateway, '127.0.0.1']) {
        expect(await reaches(a, host, port), `container reached the host at ${host}:${port}`).not.toMatch(/exit=0/);
      }
      expect(hits).toEqual([]);
      // A service in b: the host reaches it (preview path), a does not.
      await ok(b, 'nohup python3 -m http.server 8080 --bind 0.0.0.0 >/dev/null 2>&1 &');
      const deadline = Date.now() + 20_000;
      while (!(await canConnect(addrB, 8080, 1000)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(await canConnect(addrB, 8080, 3000), 'host reaches the container port').toBe(true);
      expect(await reaches(a, addrB, 8080), 'a container reached another').not.toMatch(/exit=0/);
      // The same service is reachable from inside b itself (so a's failure is isolation, not a dead service).
      expect(await reaches(b, '127.0.0.1', 8080)).toMatch(/exit=0/);
      expect(await canConnect(addrA, 8080, 1000)).toBe(false);
    } finally {
      server.close();
    }
  });

  it('holds its pids limit', async () => {
    expect((await ok(limited, 'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max')).trim()).toBe(String(limits.pids));
    // 100 short sleepers: forks past the limit are refused (the sleepers end by themselves, so
    // nothing has to fork to clean up at the limit).
    const r = await sh(limited, 'i=0; while [ $i -lt 100 ]; do sleep 6 & i=$((i+1)); done; wait', 60_000);
    expect(r.err).toMatch(/fork/i);
    await new Promise((res) => setTimeout(res, 7000));
    expect((await ok(limited, 'echo alive')).trim()).toBe('alive');
  });

  it('kills a timed-out command even when it holds every pid the sandbox may have', async () => {
    // Forks sleepers until the limit refuses, and keeps trying: the sandbox stays at its limit.
    const r = await sh(limited, `perl -e 'while (1) { my $p = fork; if (!defined $p) { select undef, undef, undef, 0.05; next } if (!$p) { exec "sleep", "300" } }'`, 4000);
    expect(r.timedOut).toBe(true);
    // Nothing of it is left (the sleepers would otherwise hold the pids for 5 minutes).
    expect((await ok(limited, "ps -eo args= | grep -c '^sleep 300' || true")).trim()).toBe('0');
  });

  it('holds its memory limit: a process that goes over it is killed', async () => {
    const r = await sh(limited, "python3 -c 'x = bytearray(600 * 1024 * 1024); print(len(x))'", 60_000);
    expect(r.code).not.toBe(0);
    expect(r.out).not.toContain('629145600');
    expect((await ok(limited, 'echo alive')).trim()).toBe('alive');
  });

  it('has its CPU quota', async () => {
    const quota = await ok(limited, 'cat /sys/fs/cgroup/cpu.max 2>/dev/null || echo "$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)"');
    const [q, period] = quota.trim().split(/\s+/).map(Number);
    expect(q! / period!).toBeCloseTo(limits.vcpus, 2);
  });

  it('holds its disk limit where the storage driver enforces one, and says so where it cannot', async () => {
    const facts = await engineFacts(docker);
    const probe = await provider.probe();
    if (!facts.diskQuota) {
      expect(probe.reason).toMatch(/disk limits are not enforced/);
      console.warn(`*** docker.isolation: storage driver ${facts.storageDriver} cannot enforce disk limits; checked that probe() says so ***`);
      return;
    }
    expect(probe).toEqual({ available: true });
    const r = await sh(limited, 'dd if=/dev/zero of=/var/tmp/fill bs=1M count=1600 2>&1; sync; du -m /var/tmp/fill | cut -f1', 120_000);
    expect(r.out).toMatch(/No space left|Disk quota exceeded/);
    expect(Number(r.out.trim().split('\n').pop())).toBeLessThanOrEqual(1024 + 64);
    await ok(limited, 'rm -f /var/tmp/fill');
  }, 180_000);
});
