/**
 * The docker provider after a crash: a new provider on the same state dir (a restarted server)
 * finds its sandboxes as they are, with their start env; finishes or undoes a container
 * re-make that a crash interrupted (either half alone is a whole sandbox); and a provider on
 * another state dir (another server on the same engine) sees none of them.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, defaultEndpoint, parseEndpoint } from '../src/docker/connection';
import { DockerProvider } from '../src/docker/index';
import { containerName } from '../src/docker/labels';
import { NEXT_SUFFIX } from '../src/docker/lifecycle';
import { dockerUnavailableReason, tempDockerProvider, warnDockerSkipped } from './support/docker';
import { createSpec, uniqueId } from './support/local';

const unavailable = dockerUnavailableReason();
warnDockerSkipped('docker.crash.test.ts', unavailable);

describe.skipIf(!!unavailable)('docker provider after a crash', () => {
  const first = tempDockerProvider('pe-docker-crash-');
  const other = tempDockerProvider('pe-docker-crash-other-');
  const docker = connect(parseEndpoint(defaultEndpoint()));
  const running = uniqueId('dkcrr');
  const bothHalves = uniqueId('dkcrb');
  const onlyNext = uniqueId('dkcrn');
  const names = async () => (await docker.listContainers({ all: true })).flatMap((c) => c.Names.map((n) => n.slice(1)));

  /** What a re-make leaves when it dies after creating `<name>.next` (a copy of the container). */
  const halfRemake = async (id: string, removeOld: boolean) => {
    const old = await docker.getContainer(containerName(id)).inspect();
    await docker.createContainer({ name: containerName(id) + NEXT_SUFFIX, Image: old.Config.Image, Cmd: old.Config.Cmd, Labels: old.Config.Labels, HostConfig: { Init: true } });
    if (removeOld) await docker.getContainer(old.Id).remove({ force: true });
  };

  beforeAll(async () => {
    await first.provider.create(createSpec(running));
    await first.provider.start(running, { env: { CRASH_ENV: 'kept' } });
    for (const id of [bothHalves, onlyNext]) await first.provider.create(createSpec(id));
    await halfRemake(bothHalves, false);
    await halfRemake(onlyNext, true);
  }, 300_000);

  afterAll(async () => {
    const p = new DockerProvider({ stateDir: first.stateDir });
    for (const id of [running, bothHalves, onlyNext]) await p.delete(id).catch(() => undefined);
    await rm(first.stateDir, { recursive: true, force: true });
    await rm(other.stateDir, { recursive: true, force: true });
  });

  it('a new provider on the same state dir adopts its sandboxes, with their start env, and settles interrupted re-makes', async () => {
    const restarted = new DockerProvider({ stateDir: first.stateDir });
    const listed = new Map((await restarted.list()).map((s) => [s.id, s.state]));
    expect(listed.get(running)).toBe('running');
    expect(listed.get(bothHalves)).toBe('stopped');
    expect(listed.get(onlyNext)).toBe('stopped');
    const now = await names();
    // Both halves: the old container stays the sandbox, the new half is gone. Only the new half: it became the sandbox.
    expect(now).toContain(containerName(bothHalves));
    expect(now).not.toContain(containerName(bothHalves) + NEXT_SUFFIX);
    expect(now).toContain(containerName(onlyNext));
    expect(now).not.toContain(containerName(onlyNext) + NEXT_SUFFIX);
    expect((await restarted.exec(running, 'echo "$CRASH_ENV"')).stdout.toString()).toBe('kept\n');
  });

  it('a provider on another state dir (another server on the engine) sees none of them', async () => {
    const ids = (await other.provider.list()).map((s) => s.id);
    for (const id of [running, bothHalves, onlyNext]) {
      expect(ids).not.toContain(id);
      expect((await other.provider.observe(id)).state).toBe('missing');
    }
    // And deleting "its" id is a no-op for the real owner's sandbox.
    await other.provider.delete(running);
    expect((await first.provider.observe(running)).state).toBe('running');
  });
});
