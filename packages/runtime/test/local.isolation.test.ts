/**
 * What a process inside a local sandbox can and cannot see or do: its own init,
 * hostname and root user (unprivileged on the host), none of the host's files,
 * processes of other sandboxes or host loopback services; but the registries on
 * the internet, with working TLS and DNS.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxPids } from '../src/local/cgroups';
import { SandboxNetworks } from '../src/local/network/index';
import { createSpec, localUnavailableReason, tempProvider, uniqueId, warnSkipped } from './support/local';

const unavailable = localUnavailableReason();
warnSkipped('local.isolation.test.ts', unavailable);

const projectCheckout = dirname(dirname(dirname(dirname(fileURLToPath(import.meta.url)))));

describe.skipIf(!!unavailable)('local sandbox isolation', () => {
  const t = tempProvider();
  const { provider } = t;
  const a = uniqueId('isoa');
  const b = uniqueId('isob');
  const secret = randomBytes(8).toString('hex');
  const hostMarkers: string[] = [];

  const sh = async (id: string, command: string, timeoutMs = 60_000) => {
    const r = await provider.exec(id, command, { timeoutMs });
    return { out: r.stdout.toString(), err: r.stderr.toString(), code: r.exitCode };
  };
  const ok = async (id: string, command: string, timeoutMs?: number) => {
    const r = await sh(id, command, timeoutMs);
    expect(r.code, `${command}\n${r.err}`).toBe(0);
    return r.out;
  };

  beforeAll(async () => {
    await provider.create(createSpec(a));
    await provider.create(createSpec(b));
    await provider.start(a);
    await provider.start(b);
  });

  afterAll(async () => {
    for (const m of hostMarkers) rmSync(m, { recursive: true, force: true });
    await t.cleanup();
  });

  it('runs catatonit as pid 1, which reaps orphaned zombies', async () => {
    expect(await ok(a, "tr '\\0' ' ' < /proc/1/cmdline")).toBe('/dev/init -P ');
    expect((await ok(a, 'echo $$')).trim()).not.toBe('1');
    // Orphans are re-parented to pid 1; after they exit nothing may stay a zombie.
    await ok(a, '(sleep 0.2 &) ; (sleep 0.2 &) ; sleep 1');
    expect((await ok(a, "ps -eo stat= | grep -c '^Z' || true")).trim()).toBe('0');
  });

  it('has the sandbox name as hostname', async () => {
    expect(await ok(a, 'hostname; uname -n; cat /etc/hostname')).toBe(`box-${a}\n`.repeat(3));
    expect(await ok(b, 'hostname')).toBe(`box-${b}\n`);
  });

  it('is root inside but an unprivileged uid range on the host, with Docker-like capabilities', async () => {
    expect((await ok(a, 'id -u')).trim()).toBe('0');
    expect((await ok(a, 'cat /proc/self/uid_map')).trim().split(/\s+/)).toEqual(['0', '131072', '65536']);
    await ok(a, 'nohup sleep 4101 >/dev/null 2>&1 &');
    const hostUids = new Set<string>();
    for (const pid of await sandboxPids(a)) {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      hostUids.add(status.match(/^Uid:\s+(.*)$/m)![1]!.split(/\s+/)[0]!);
    }
    expect(hostUids.size).toBeGreaterThan(0);
    for (const uid of hostUids) expect(Number(uid)).toBeGreaterThanOrEqual(131072);
    // Docker's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
    // NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP.
    expect(await ok(a, "grep -E '^Cap(Eff|Bnd)' /proc/self/status | awk '{print $2}'")).toBe('00000000a80425fb\n'.repeat(2));
    // Things only a privileged process could do all fail.
    for (const cmd of ['mount -t tmpfs none /mnt', 'ip link add pe0 type dummy', 'echo 1 > /proc/sys/kernel/sysrq', 'echo x > /sys/kernel/uevent_helper', 'sysctl -w net.ipv4.ip_forward=0']) {
      expect((await sh(a, cmd)).code, cmd).not.toBe(0);
    }
  });

  it('runs under a seccomp filter and masks kernel files', async () => {
    expect(await ok(a, "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status")).toMatch(/^NoNewPrivs:\s+0\nSeccomp:\s+2\n$/);
    if (process.arch === 'x64') {
      // vmsplice(2) is allowed to any unprivileged process by the kernel, but the default profile denies it.
      const py = 'import ctypes,os; libc=ctypes.CDLL(None,use_errno=True); r,w=os.pipe(); b=ctypes.create_string_buffer(b"x"); iov=(ctypes.c_void_p*2)(ctypes.cast(b,ctypes.c_void_p),1); print(libc.syscall(278,w,iov,1,0), ctypes.get_errno())';
      expect((await ok(a, `python3 -c '${py}'`)).trim()).toBe('-1 1');
    }
    // Masked: kernel state the host shows (timer_list is non-empty there) reads as empty inside.
    expect(readFileSync('/proc/timer_list').length).toBeGreaterThan(0);
    expect(await ok(a, 'cat /proc/timer_list /proc/keys | wc -c; ls -A /proc/acpi 2>/dev/null | wc -l')).toBe('0\n0\n');
    expect((await sh(a, 'touch /proc/sysrq-trigger')).code).not.toBe(0);
  });

  it("cannot see the host's files outside the base image", async () => {
    const home = join(homedir(), `.pe-iso-${secret}`);
    // Shaped like a server data dir (~/.pocketenv is the default; not touched here).
    const dataDir = join(homedir(), `.pocketenv-iso-${secret}`, 'runtime');
    const tmp = `/tmp/pe-iso-${secret}`;
    for (const dir of [home, dataDir, tmp]) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'secret.txt'), secret);
    }
    hostMarkers.push(home, dirname(dataDir), tmp);
    const paths = [home, dataDir, tmp, join(projectCheckout, 'package.json'), t.stateDir, join(t.stateDir, 'sandboxes', a, 'spec.json')];
    for (const path of paths) {
      expect(existsSync(path), `host has ${path}`).toBe(true);
      expect(await ok(a, `test -e '${path}' && echo visible || echo absent`), path).toBe('absent\n');
    }
    // The host's own secrets and the provider state are not in the sandbox's files either.
    expect(await ok(a, `grep -rls '${secret}' /root /tmp /home /workspace /etc 2>/dev/null | wc -l`)).toBe('0\n');
  });

  it("cannot see another sandbox's processes or files", async () => {
    await ok(a, `nohup sleep 4242 >/dev/null 2>&1 & echo ${secret} > /workspace/a-secret.txt; echo ${secret} > /tmp/a-secret.txt`);
    expect(await ok(a, "ps -eo args= | grep -cx 'sleep 4242' || true")).toBe('1\n');
    expect(await ok(b, "ps -eo args= | grep -cx 'sleep 4242' || true")).toBe('0\n');
    // b sees only its own handful of processes.
    expect(Number((await ok(b, "ls /proc | grep -c '^[0-9]*$'")).trim())).toBeLessThan(10);
    expect(await ok(b, 'find / -xdev -name a-secret.txt 2>/dev/null | wc -l')).toBe('0\n');
    expect(await ok(b, `grep -rls '${secret}' /workspace /tmp 2>/dev/null | wc -l`)).toBe('0\n');
  });

  it("cannot reach the host's loopback services", async () => {
    const served: string[] = [];
    const server: Server = createServer((c) => {
      served.push('hit');
      c.end('host-loopback-service\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const gateway = (await new SandboxNetworks().addressOf(a))?.hostIp;
      expect(gateway, 'running sandbox has a network address').toBeTruthy();
      for (const host of ['127.0.0.1', gateway!, 'localhost']) {
        const r = await sh(a, `curl -sS -m 3 http://${host}:${port}/`);
        expect(r.code, `reached ${host}:${port}`).not.toBe(0);
        expect(r.out).not.toContain('host-loopback-service');
      }
      expect(served).toEqual([]);
      // The sandbox's own loopback works (so the failures above are about the host).
      const own = await ok(a, `python3 -m http.server ${port} --bind 127.0.0.1 >/dev/null 2>&1 & sleep 1; curl -sS -m 3 -o /dev/null -w '%{http_code}' http://127.0.0.1:${port}/; kill $!`);
      expect(own).toBe('200');
    } finally {
      server.close();
    }
  });

  it('reaches the package registries with the host CA bundle and DNS', async () => {
    expect(await ok(a, 'cat /etc/resolv.conf')).toBe(readFileSync('/etc/resolv.conf', 'utf8'));
    expect(await ok(a, 'sha256sum < /etc/ssl/certs/ca-certificates.crt')).toBe(
      (await import('node:crypto')).createHash('sha256').update(readFileSync('/etc/ssl/certs/ca-certificates.crt')).digest('hex') + '  -\n',
    );
    expect((await sh(a, 'echo x >> /etc/resolv.conf')).code).not.toBe(0);
    expect(await ok(a, "curl -sS -m 30 -o /dev/null -w '%{http_code}' https://registry.npmjs.org/", 60_000)).toBe('200');
    const apt = await sh(a, 'apt-get update', 180_000);
    expect(apt.code, apt.err + apt.out).toBe(0);
  }, 240_000);
});
