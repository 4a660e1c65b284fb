/**
 * The host side of the exec agent against fake agents (unix-socket servers on the host), each
 * misbehaving in one way a sandbox's code could, since code inside a sandbox can replace its
 * agent: never answering, ignoring a kill, closing before confirming, flooding, lying about
 * the exit code or the frame size. Whatever it does, the exec ends (by its deadline plus the
 * kill grace), a command is never run twice (the runtime-exec fallback is a marker file here),
 * the bytes read are bounded, and a misbehaving agent is reported so it is not used again.
 * (packages/server/test/safety/hostile-agent.test.ts does the same inside real sandboxes.)
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderError } from '../src/provider/errors';
import { runExec, streamExec, type ExecTarget } from '../src/local/exec';
import { processSpec } from '../src/local/oci-config';

let dir: string;
const servers: net.Server[] = [];
const PROC = processSpec(['/bin/sh', '-c', 'echo hi'], ['PATH=/usr/bin:/bin'], '/');

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pe-agent-client-'));
});

afterAll(async () => {
  for (const s of servers) s.close();
  await rm(dir, { recursive: true, force: true });
});

function frame(type: string, payload: Buffer | string = ''): Buffer {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

interface Fake {
  target: ExecTarget;
  /** Lines the runtime-exec fallback wrote (it must never run after the agent got the request). */
  fallbackRuns(): number;
  misbehaved: string[];
  missing: number;
  /** Host-side sweeps of the sandbox's processes (the kill the host does itself). */
  sweeps: number;
  /** Bytes the fake agent managed to hand to the kernel. */
  written: { bytes: number };
  /** Frame types the fake agent received. */
  received: string[];
}

/** A fake agent at a fresh socket path; `serve` plays its part for each connection. */
async function fakeAgent(serve: (conn: net.Socket, fake: Fake) => void, opts: { startTimeoutMs?: number } = {}): Promise<Fake> {
  const name = `a${servers.length}`;
  const socketPath = path.join(dir, `${name}.sock`);
  const marker = path.join(dir, `${name}.fallback`);
  const fake: Fake = {
    target: {
      argv: () => ({ file: '/bin/sh', args: ['-c', `echo ran >> ${marker}`] }),
      pids: async () => {
        fake.sweeps++;
        return [];
      },
      execDir: path.join(dir, `${name}.exec`),
      agentSocket: socketPath,
      agentStartTimeoutMs: opts.startTimeoutMs ?? 20_000,
      onAgentMissing: () => fake.missing++,
      onAgentMisbehaved: (reason) => fake.misbehaved.push(reason),
    },
    fallbackRuns: () => (existsSync(marker) ? readFileSync(marker, 'utf8').split('\n').filter(Boolean).length : 0),
    misbehaved: [],
    missing: 0,
    sweeps: 0,
    written: { bytes: 0 },
    received: [],
  };
  const server = net.createServer((conn) => {
    conn.on('error', () => undefined);
    conn.on('data', (d: Buffer) => {
      // Good enough for tests: frames from the host arrive whole in practice (small ones).
      if (d.length >= 5) fake.received.push(String.fromCharCode(d[0]!));
    });
    serve(conn, fake);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(socketPath, r));
  return fake;
}

/** Writes 64 KiB output frames as fast as the host takes them, forever (ignoring kills). */
function flood(conn: net.Socket, fake: Fake, frameBytes = 64 * 1024): void {
  const chunk = frame('O', Buffer.alloc(frameBytes, 0x61));
  const pump = () => {
    while (!conn.destroyed) {
      fake.written.bytes += chunk.length;
      if (!conn.write(chunk)) return void conn.once('drain', pump);
    }
  };
  conn.write(frame('P', '4242'));
  pump();
}

describe('an agent that never answers', () => {
  it('times out at the exec deadline (which covers the start), without running the command elsewhere', async () => {
    const fake = await fakeAgent(() => undefined);
    const r = await runExec(fake.target, PROC, { timeoutMs: 500 });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBe(137);
    expect(r.stderr.toString()).toContain('stopped before the sandbox confirmed');
    expect(fake.fallbackRuns()).toBe(0);
  });

  it('fails with a clear error after the start timeout, and is reported as misbehaving', async () => {
    const fake = await fakeAgent(() => undefined, { startTimeoutMs: 300 });
    const err = await runExec(fake.target, PROC, { timeoutMs: 60_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(/exec agent is not answering.*was not run again/);
    expect(fake.misbehaved).toHaveLength(1);
    expect(fake.fallbackRuns()).toBe(0);
  });

  it('ends when the caller goes away', async () => {
    const fake = await fakeAgent(() => undefined);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const r = await runExec(fake.target, PROC, { timeoutMs: 600_000, signal: ac.signal });
    expect(r.exitCode).toBe(137);
    expect(r.timedOut).toBe(false);
  });
});

describe('an agent that confirms the start, then ignores the kill', () => {
  it('answers timedOut once the deadline and the kill grace are over', async () => {
    const fake = await fakeAgent((conn) => conn.write(frame('P', '4242')));
    const r = await runExec(fake.target, PROC, { timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBe(137);
    expect(r.stderr.toString()).toContain('did not end within');
    expect(fake.received).toContain('K');
    expect(fake.sweeps).toBeGreaterThan(0);
    expect(fake.misbehaved.join()).toMatch(/did not report the exit/);
  });

  it('ends a streamed exec too', async () => {
    const fake = await fakeAgent((conn) => conn.write(frame('P', '4242')));
    const proc = await streamExec(fake.target, PROC, {}, { timeoutMs: 300 });
    expect(await proc.wait()).toEqual({ exitCode: 137, timedOut: true });
  });
});

describe('an agent that closes the connection before confirming', () => {
  it('fails the exec and never runs the command a second time', async () => {
    const fake = await fakeAgent((conn) => conn.once('data', () => conn.destroy()));
    const err = await runExec(fake.target, PROC, { timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/closed the connection before confirming the command.*not run again/);
    expect(fake.fallbackRuns()).toBe(0);
    expect(fake.misbehaved).toHaveLength(1);
  });

  it('an agent that says it could not start the command (N) is not distrusted', async () => {
    const fake = await fakeAgent((conn) => conn.once('data', () => conn.end(frame('N', 'fork: Resource temporarily unavailable'))));
    const err = await runExec(fake.target, PROC, {}).catch((e: unknown) => e);
    expect((err as Error).message).toBe('the command could not be started in the sandbox: fork: Resource temporarily unavailable');
    expect(fake.misbehaved).toHaveLength(0);
    expect(fake.fallbackRuns()).toBe(0);
  });

  it('falls back to the runtime exec (once) only when nothing listens', async () => {
    const fake = await fakeAgent(() => undefined);
    const target = { ...fake.target, agentSocket: path.join(dir, 'nobody.sock') };
    const r = await runExec(target, PROC, { timeoutMs: 10_000 });
    expect(r.exitCode).toBe(0);
    expect(fake.fallbackRuns()).toBe(1);
    expect(fake.missing).toBe(1);
  });
});

describe('bad frames', () => {
  for (const code of ['notanumber', '1e400', '256', '-1', '', '007', ' 1']) {
    it(`an exit frame of ${JSON.stringify(code)} fails the exec with a clear error (never a null exit code)`, async () => {
      const fake = await fakeAgent((conn) => conn.write(Buffer.concat([frame('P', '4242'), frame('X', code)])));
      const err = await runExec(fake.target, PROC, { timeoutMs: 10_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProviderError);
      expect((err as Error).message).toContain(`sent an invalid exit code ${JSON.stringify(code)}`);
      expect(fake.misbehaved).toHaveLength(1);
      // The command the agent reported may still run: the host swept the sandbox for it.
      expect(fake.sweeps).toBeGreaterThan(0);
    });
  }

  it('a well-formed exit frame still gives its exit code', async () => {
    const fake = await fakeAgent((conn) => conn.write(Buffer.concat([frame('P', '4242'), frame('O', 'out'), frame('X', '42')])));
    const r = await runExec(fake.target, PROC, { timeoutMs: 10_000 });
    expect(r).toMatchObject({ exitCode: 42, timedOut: false, truncated: false });
    expect(r.stdout.toString()).toBe('out');
  });

  for (const [what, bytes] of [
    ['an oversized frame', Buffer.concat([frame('P', '4242'), frame('O', Buffer.alloc(1024 * 1024))])],
    ['output before the pid', frame('O', 'x')],
    ['a pid of 1', frame('P', '1')],
    ['a pid that is not a number', frame('P', '12a')],
    ['an unknown frame', Buffer.concat([frame('P', '4242'), frame('Z', 'x')])],
  ] as const) {
    it(`${what} fails the exec`, async () => {
      const fake = await fakeAgent((conn) => conn.write(bytes));
      const err = await runExec(fake.target, PROC, { timeoutMs: 10_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProviderError);
      expect((err as Error).message).toMatch(/the sandbox's exec agent sent/);
    });
  }
});

describe('an agent that floods output', () => {
  it('1 MiB frames: refused at the first frame header', async () => {
    const fake = await fakeAgent((conn, f) => flood(conn, f, 1024 * 1024));
    const err = await runExec(fake.target, PROC, { timeoutMs: 5000 }).catch((e: unknown) => e);
    expect((err as Error).message).toContain('a frame of 1048576 bytes');
  });

  it('endless valid frames ignoring the kill: stopped after a bounded amount beyond the output cap', async () => {
    const fake = await fakeAgent(flood);
    const r = await runExec(fake.target, PROC, { timeoutMs: 60_000 });
    expect(r.truncated).toBe(true);
    expect(r.stdout.length).toBe(1024 * 1024);
    expect(r.exitCode).toBe(137);
    expect(r.stderr.toString()).toContain('wrote more than 64 MiB beyond the output cap');
    // 1 MiB kept + 64 MiB dropped + at most 4 MiB after the kill, plus what sat in socket buffers.
    expect(fake.written.bytes).toBeLessThan(80 * 1024 * 1024);
    expect(fake.received).toContain('K');
  });
});

describe('a streamed exec whose consumer pauses', () => {
  it('stops reading from the agent while paused (bounded), and delivers everything after resume', async () => {
    const total = 16 * 1024 * 1024;
    const fake = await fakeAgent((conn, f) => {
      conn.write(frame('P', '4242'));
      let sent = 0;
      const chunk = frame('O', Buffer.alloc(64 * 1024, 0x62));
      const pump = () => {
        while (sent < total) {
          sent += 64 * 1024;
          f.written.bytes += chunk.length;
          if (!conn.write(chunk)) return void conn.once('drain', pump);
        }
        conn.write(frame('X', '0'));
      };
      pump();
    });
    let got = 0;
    const proc = await streamExec(fake.target, PROC, { onStdout: (c) => (got += c.length) }, { timeoutMs: 60_000 });
    proc.pause();
    await new Promise((r) => setTimeout(r, 1000));
    const whilePaused = fake.written.bytes;
    // Socket buffers on both sides plus the output stream's buffer: far below the 16 MiB on offer.
    expect(whilePaused).toBeLessThan(4 * 1024 * 1024);
    proc.resume();
    expect(await proc.wait()).toEqual({ exitCode: 0, timedOut: false });
    expect(got).toBe(total);
  });
});
