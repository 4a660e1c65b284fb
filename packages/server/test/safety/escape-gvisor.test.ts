/**
 * The two isolation levels side by side: the same attacks, from inside a `standard` and a
 * `gvisor` sandbox created over the API, on host files, another sandbox, the host's services
 * and loopback, and the raw kernel interfaces that the standard level survives only because
 * its seccomp filter refuses them (io_uring, perf, bpf, userfaultfd, keyrings, mount, module
 * loading, unusual socket families, ptrace of a host process).
 *
 * "Escaped" means the attack reached something of the host: a canary only the host has, the
 * neighbour's marker, or (for the raw interfaces) the HOST kernel's implementation answering.
 * At the gvisor level a raw interface may answer, but then it is gVisor's kernel answering
 * (its io_uring, its packet socket on its own netstack): the test first proves that the
 * kernel the gvisor sandbox talks to is gVisor's and the standard one's is the host's.
 *
 * Prints one `[safety:isolation]` line per attack with what each level answered, and a total.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '@pocketenv/server/testing';
import { Api } from '../helpers';
import { figure, hostRead, markerServiceCommand, tcpTry, waitForBanner } from './support';

const hasRunsc = await fs.access('/usr/bin/runsc').then(() => true, () => false);

const CANARY = `pocketenv-canary-${randomBytes(12).toString('hex')}`;
const NEIGHBOUR_MARKER = `neighbour-${randomBytes(12).toString('hex')}`;
const LEVELS = ['standard', 'gvisor'] as const;
type Level = (typeof LEVELS)[number];

let server: TestServer;
let api: Api;
const sandboxOf = {} as Record<Level, string>;
/** Whether each sandbox's kernel is gVisor's (from its dmesg), proven in the first test. */
const kernelIsGvisor = {} as Record<Level, boolean>;
const gatewayOf = {} as Record<Level, string>;
let neighbour: string;
let neighbourIp: string;
let canaryDir: string;
let hostTcp: net.Server;
let hostTcpPort: number;
let hostSleeper: ChildProcess;
const rows: { attack: string; standard: string; gvisor: string }[] = [];
let escapes = 0;

async function sh(id: string, command: string, timeoutMs = 60_000) {
  const r = await api.exec(id, command, { timeoutMs });
  return { ...r, all: `${r.stdout}\n${r.stderr}` } as { stdout: string; stderr: string; exitCode: number; all: string };
}

const py = (id: string, script: string) => sh(id, `python3 - <<'PY'\nimport os, sys, socket, ctypes, errno, struct, json\n${script}\nPY`);

/** The outcome of one attack at one level: whether it reached the host, and what answered. */
interface Outcome {
  escaped: boolean;
  detail: string;
}

/** One attack = one test, run at both levels; each level's outcome becomes a cell of the table. */
function attack(name: string, fn: (level: Level, id: string) => Promise<Outcome>): void {
  it(name, async () => {
    const cells = {} as Record<Level, Outcome>;
    for (const level of LEVELS) cells[level] = await fn(level, sandboxOf[level]);
    rows.push({ attack: name, standard: cellText(cells.standard), gvisor: cellText(cells.gvisor) });
    for (const level of LEVELS) {
      if (cells[level].escaped) escapes++;
      expect(cells[level], `${name} at ${level}`).toMatchObject({ escaped: false });
    }
  }, 120_000);
}

const cellText = (o: Outcome) => `${o.escaped ? 'ESCAPED' : 'blocked'} (${o.detail})`;

/** x86_64 syscall numbers (the attack's raw interface). */
const SYSCALLS: Record<string, { nr: number; args: string }> = {
  io_uring_setup: { nr: 425, args: '8, ctypes.create_string_buffer(120)' },
  perf_event_open: { nr: 298, args: "ctypes.create_string_buffer(struct.pack('IIQ', 1, 112, 0) + b'\\0' * 104), 0, -1, -1, 0" },
  bpf: { nr: 321, args: "0, ctypes.create_string_buffer(struct.pack('IIII', 2, 4, 4, 1) + b'\\0' * 64), 80" },
  userfaultfd: { nr: 323, args: '0' },
  keyctl: { nr: 250, args: '0, ctypes.c_int(-3), 0' },
  add_key: { nr: 248, args: "b'user', b'pocketenv', b'secret', 6, ctypes.c_int(-3)" },
  'mount (tmpfs)': { nr: 165, args: "b'none', b'/mnt', b'tmpfs', 0, None" },
  init_module: { nr: 175, args: "None, 0, b''" },
  kexec_load: { nr: 246, args: '0, 0, None, 0' },
  open_by_handle_at: { nr: 304, args: "os.open('/', os.O_RDONLY), ctypes.create_string_buffer(struct.pack('IiQ', 8, 1, 2)), 0" },
  fanotify_init: { nr: 300, args: '0, 0' },
};

/** Socket families a sandbox has no business opening on the host kernel. */
const FAMILIES: Record<string, [number, number, number]> = {
  AF_VSOCK: [40, 1, 0],
  AF_ALG: [38, 5, 0],
  AF_KEY: [15, 3, 2],
  AF_TIPC: [30, 2, 0],
  AF_RDS: [21, 5, 0],
  AF_CAN: [29, 3, 1],
  AF_XDP: [44, 3, 0],
  AF_BLUETOOTH: [31, 3, 1],
  AF_PPPOX: [24, 1, 0],
};

/** A raw kernel interface answering is an escape only when it is the host's kernel answering. */
function kernelOutcome(level: Level, ret: number, err: string): Outcome {
  if (ret < 0) return { escaped: false, detail: err };
  return kernelIsGvisor[level] ? { escaped: false, detail: `answered by gVisor's kernel (fd ${ret}); the host kernel is not reached` } : { escaped: true, detail: `the host kernel answered: ${ret}` };
}

describe.runIf(hasRunsc && process.arch === 'x64')('escape attempts at both isolation levels, side by side', () => {
  beforeAll(async () => {
    canaryDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-escape-gvisor-'));
    await fs.writeFile(path.join(canaryDir, 'canary.txt'), CANARY);
    hostTcp = net.createServer((c) => c.end(`HOST ${CANARY}\n`));
    await new Promise<void>((r) => hostTcp.listen(0, '0.0.0.0', r));
    hostTcpPort = (hostTcp.address() as net.AddressInfo).port;
    hostSleeper = spawn('sleep', ['3600'], { stdio: 'ignore' });

    server = await startTestServer({ log: false });
    api = new Api(server.url, server.ownerToken);
    await fs.writeFile(path.join(server.dataDir, 'canary.txt'), CANARY, { mode: 0o600 });
    const [std, gv, nb] = await Promise.all([
      api.create({ name: 'side-standard' }),
      api.create({ name: 'side-gvisor', isolation: 'gvisor' }),
      api.create({ name: 'side-neighbour' }),
    ]);
    sandboxOf.standard = std.id;
    sandboxOf.gvisor = gv.id;
    neighbour = nb.id;
    for (const level of LEVELS) {
      const r = await sh(sandboxOf[level], "dmesg 2>/dev/null | head -3; ip -4 route show default | awk '{print $3}'");
      kernelIsGvisor[level] = r.stdout.includes('Starting gVisor');
      gatewayOf[level] = r.stdout.trim().split('\n').pop()!.trim();
    }
    neighbourIp = (await sh(neighbour, "ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1")).stdout.trim();
    await sh(neighbour, markerServiceCommand(NEIGHBOUR_MARKER, 8080));
    await waitForBanner(neighbourIp, 8080, NEIGHBOUR_MARKER);
  }, 300_000);

  afterAll(async () => {
    hostSleeper?.kill('SIGKILL');
    hostTcp?.close();
    const dataDir = server?.dataDir;
    await server?.close();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
    if (canaryDir) await fs.rm(canaryDir, { recursive: true, force: true });
    for (const row of rows) figure('isolation', `${row.attack} | standard: ${row.standard} | gvisor: ${row.gvisor}`);
    figure('isolation', `${rows.length} attacks x 2 levels, ${escapes} escapes`);
  });

  it('controls: the gvisor sandbox talks to gVisor\'s kernel, the standard one to the host\'s; the canaries are reachable from the host', async () => {
    const std = await sh(sandboxOf.standard, 'uname -r; cat /proc/version');
    const gv = await sh(sandboxOf.gvisor, 'uname -r; cat /proc/version; dmesg | head -1');
    figure('isolation', `kernel seen: standard ${JSON.stringify(std.stdout.split('\n')[0])}, gvisor ${JSON.stringify(gv.stdout.split('\n')[0])} (${gv.stdout.split('\n')[2]})`);
    expect(std.stdout.split('\n')[0]).toBe(os.release());
    expect(kernelIsGvisor).toEqual({ standard: false, gvisor: true });
    expect(gv.stdout).not.toContain(os.release());
    expect(await hostRead(neighbourIp, 8080)).toContain(NEIGHBOUR_MARKER);
    expect(await hostRead('127.0.0.1', hostTcpPort)).toContain(CANARY);
    for (const level of LEVELS) expect(gatewayOf[level]).toMatch(/^10\.201\.\d+\.\d+$/);
  });

  attack('read a host file and the server data directory by their paths', async (_level, id) => {
    const d = server.dataDir;
    const r = await sh(id, `cat ${canaryDir}/canary.txt ${d}/canary.txt ${d}/token.json 2>&1; for p in /proc/[0-9]*; do cat $p/root${canaryDir}/canary.txt 2>/dev/null; done; true`);
    const escaped = r.all.includes(CANARY) || r.all.includes(server.ownerToken);
    return { escaped, detail: escaped ? 'read the canary' : (r.all.match(/No such file or directory|Permission denied/)?.[0] ?? 'nothing read') };
  });

  attack("reach another sandbox's service", async (_level, id) => {
    const r = await py(id, tcpTry(neighbourIp, 8080));
    const escaped = r.all.includes(NEIGHBOUR_MARKER);
    return { escaped, detail: escaped ? 'got the neighbour marker' : (r.stdout.match(/timed out|refused|unreachable/i)?.[0] ?? r.stdout.trim().slice(0, 80)) };
  });

  attack("reach a host service via the sandbox's gateway and the host's loopback", async (level, id) => {
    const r = await py(id, tcpTry(gatewayOf[level], hostTcpPort) + tcpTry('127.0.0.1', hostTcpPort) + tcpTry('127.0.0.1', server.port));
    const escaped = r.all.includes(CANARY) || r.all.includes('publicKey');
    return { escaped, detail: escaped ? 'got the host canary' : [...new Set(r.stdout.match(/timed out|refused|unreachable/gi) ?? [])].join(', ').toLowerCase() || 'no answer' };
  });

  for (const [name, { nr, args }] of Object.entries(SYSCALLS)) {
    attack(`raw kernel interface: ${name}`, async (level, id) => {
      const r = await py(id, `libc = ctypes.CDLL(None, use_errno=True)\nret = libc.syscall(${nr}, ${args})\nprint('RESULT', ret, errno.errorcode.get(ctypes.get_errno(), '?'))`);
      const m = /RESULT (-?\d+) (\S+)/.exec(r.stdout);
      expect(m, r.all).toBeTruthy();
      return kernelOutcome(level, Number(m![1]), m![2]!);
    });
  }

  attack('unusual socket families (vsock, alg, key, tipc, rds, can, xdp, bluetooth, pppox)', async (level, id) => {
    const r = await py(
      id,
      `out = {}\nfor name, (fam, typ, proto) in ${JSON.stringify(FAMILIES)}.items():\n    try:\n        socket.socket(fam, typ, proto).close(); out[name] = 'OPEN'\n    except OSError as e:\n        out[name] = errno.errorcode.get(e.errno, str(e.errno))\nprint('RESULT', json.dumps(out))`,
    );
    const opened = JSON.parse(/RESULT (.*)/.exec(r.stdout)![1]!) as Record<string, string>;
    const open = Object.entries(opened).filter(([, v]) => v === 'OPEN').map(([k]) => k);
    const refusals = [...new Set(Object.values(opened).filter((v) => v !== 'OPEN'))].join('/');
    if (open.length === 0) return { escaped: false, detail: `all refused: ${refusals}` };
    return kernelIsGvisor[level] ? { escaped: false, detail: `${open.join(', ')} opened in gVisor's netstack` } : { escaped: true, detail: `the host kernel opened ${open.join(', ')}` };
  });

  attack('ptrace a host process, or see it', async (_level, id) => {
    const pid = hostSleeper.pid!;
    const r = await py(id, `libc = ctypes.CDLL(None, use_errno=True)\nret = libc.syscall(101, 16, ${pid}, 0, 0)\nprint('RESULT', ret, errno.errorcode.get(ctypes.get_errno(), '?'), os.path.exists('/proc/${pid}/cmdline') and open('/proc/${pid}/cmdline').read().replace('\\0', ' '))`);
    const state = (await fs.readFile(`/proc/${pid}/stat`, 'utf8')).split(' ')[2];
    const m = /RESULT (-?\d+) (\S+) (.*)/.exec(r.stdout);
    const sawIt = (m?.[3] ?? '').includes('sleep 3600');
    const escaped = Number(m?.[1] ?? -1) >= 0 || /[tT]/.test(state!) || sawIt;
    return { escaped, detail: escaped ? 'attached to or saw the host process' : `ptrace: ${m?.[2]}, host pid ${sawIt ? 'seen' : 'not visible'}` };
  });
});
