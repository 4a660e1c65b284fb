/**
 * Resource limits are enforced by the kernel: a memory hog is OOM-killed inside
 * its sandbox, a fork bomb hits the pids limit, a disk filler hits the disk size, a
 * busy loop is throttled to the vcpus share — and in every case the other sandbox (and the sandbox itself)
 * keeps answering exec.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuThrottledPeriods, memoryLimit, oomKills, pidsLimitHits, pidsMax } from './support/cgroup-counters';
import { createSpec, localUnavailableReason, tempProvider, uniqueId, warnSkipped } from './support/local';

const unavailable = localUnavailableReason();
warnSkipped('local.limits.test.ts', unavailable);

describe.skipIf(!!unavailable)('local sandbox limits', () => {
  const t = tempProvider();
  const { provider } = t;
  const small = uniqueId('lima');
  const other = uniqueId('limb');

  const answers = async (id: string) => (await provider.exec(id, 'echo alive', { timeoutMs: 30_000 })).stdout.toString() === 'alive\n';

  beforeAll(async () => {
    await provider.create(createSpec(small, { resources: { vcpus: 0.5, memoryGiB: 0.25, diskGiB: 1, pids: 64 } }));
    await provider.create(createSpec(other));
    await provider.start(small);
    await provider.start(other);
  });

  afterAll(() => t.cleanup());

  it('applies the resources to the cgroup', () => {
    expect(memoryLimit(small)).toBe(256 * 1024 * 1024);
    expect(pidsMax(small)).toBe('64');
  });

  it('OOM-kills a memory hog inside its sandbox; both sandboxes keep answering', async () => {
    const before = oomKills(small);
    // tail buffers a "line" that never ends: it grows until the kernel kills it.
    const hog = await provider.exec(small, 'tail /dev/zero', { timeoutMs: 60_000 });
    expect(hog.timedOut).toBe(false);
    expect(hog.exitCode).toBe(137);
    expect(oomKills(small)).toBeGreaterThan(before);
    expect(await answers(other)).toBe(true);
    expect(await answers(small)).toBe(true);
  });

  it('stops a fork bomb at the pids limit; the other sandbox answers during it', async () => {
    const before = pidsLimitHits(small);
    // The shell forks once, while it still can, then becomes `sleep` without forking: a
    // shell that had to fork after the bomb went off would die of it ("Cannot fork") and
    // end the exec early, leaving the bomb behind instead of under the exec's timeout.
    const bomb = provider.exec(small, 'bomb() { bomb | bomb & }; bomb & exec sleep 30', { timeoutMs: 6_000 });
    await new Promise((r) => setTimeout(r, 2000));
    expect(await answers(other)).toBe(true);
    const r = await bomb;
    expect(r.timedOut).toBe(true);
    expect(r.stderr.toString()).toMatch(/fork/i);
    expect(pidsLimitHits(small)).toBeGreaterThan(before);
    // The timeout killed the whole bomb, so the sandbox is usable again.
    expect(await answers(small)).toBe(true);
    expect((await provider.exec(small, 'ps -e --no-headers | wc -l')).stdout.toString().trim()).toMatch(/^[1-9]$/);
  });

  it('holds the disk size: df shows it, a filler gets "No space left", and deleting the file frees it', async () => {
    const df = async (id: string) => (await provider.exec(id, "df -B1M --output=size,avail / | tail -1")).stdout.toString().trim().split(/\s+/).map(Number);
    const [sizeMiB] = await df(small);
    // 1 GiB image, less ext4's own metadata.
    expect(sizeMiB).toBeGreaterThan(900);
    expect(sizeMiB).toBeLessThanOrEqual(1024);
    const fill = await provider.exec(small, 'dd if=/dev/zero of=/workspace/fill bs=1M count=2048 conv=fsync; echo "rc=$?"', { timeoutMs: 120_000 });
    expect(fill.stderr.toString()).toMatch(/No space left on device/);
    expect(fill.stdout.toString()).toMatch(/rc=1/);
    const [, availFull] = await df(small);
    expect(availFull).toBeLessThan(16);
    // The neighbour's disk is its own.
    expect((await provider.exec(other, 'echo ok > /workspace/f && cat /workspace/f')).stdout.toString()).toBe('ok\n');
    await provider.exec(small, 'rm /workspace/fill');
    const [, availAfter] = await df(small);
    expect(availAfter).toBeGreaterThan(900);
    expect(await answers(small)).toBe(true);
  });

  it('throttles a busy loop to its CPU share', async () => {
    const before = cpuThrottledPeriods(small);
    // Two spinners want 2 CPUs against a quota of half of one: even on a busy host they get
    // more than their quota in some periods, which is what the kernel counts as throttled.
    const spin = 'timeout 2 sh -c "while :; do :; done"';
    const r = await provider.exec(small, `${spin} & ${spin}; wait; true`, { timeoutMs: 30_000 });
    expect(r.exitCode).toBe(0);
    expect(cpuThrottledPeriods(small)).toBeGreaterThan(before);
  });
});
