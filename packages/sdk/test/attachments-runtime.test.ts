import { fetchPreview, startTestServer } from '@pocketenv/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Client,
  ConflictError,
  type ConnectedSandbox,
  NotFoundError,
  SandboxNotFoundError,
  network,
  pocketenv,
  ports,
  sandbox,
  services,
  volume,
} from '../src/index';

// Volumes, services, ports and previews through the SDK against the real server and provider.
describe('runtime attachments through the SDK', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let client: Client;
  let other: Client;

  const restart = async (sb: ConnectedSandbox) => {
    await sb.stop();
    await sb.start();
  };

  /** Polls until `check` gives a value. */
  async function eventually<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const value = await check().catch(() => undefined);
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  // Preview URLs are on `*.localhost` hosts, which Node's resolver does not resolve (browsers and curl do).
  const statusOf = async (url: string) => (await fetchPreview(url)).status;

  beforeAll(async () => {
    server = await startTestServer();
    client = pocketenv.newClient((await server.createActor('alice')).token, { baseUrl: server.url });
    other = pocketenv.newClient((await server.createActor('mallory')).token, { baseUrl: server.url });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('volume: write, delete the sandbox, mount the same volume in a new sandbox, read the data back', async () => {
    const first = await sandbox.create(sandbox.new(client, 'sdk-vol-a'));
    const mounted = await volume.create(first, 'notes', '/notes');
    expect(mounted).toMatchObject({ name: 'notes', path: '/notes', readOnly: false });
    await restart(first);
    expect((await first.exec('echo "written by a" > /notes/a.txt')).exitCode).toBe(0);
    await first.delete();

    const { volumes } = await volume.listData(client);
    expect(volumes).toMatchObject([{ name: 'notes', sandboxIds: [] }]);

    const second = await sandbox.create(sandbox.new(client, 'sdk-vol-b'));
    const again = await volume.create(second, 'notes', '/home/notes', { readOnly: true });
    expect((await volume.list(second)).volumes).toEqual([again]);
    await restart(second);
    expect((await second.exec('cat /home/notes/a.txt')).stdout).toBe('written by a\n');

    await expect(volume.deleteData(client, 'notes')).rejects.toBeInstanceOf(ConflictError);
    await expect(volume.get(other, again.id)).rejects.toBeInstanceOf(NotFoundError);
    await volume.delete(second, again.id);
    await volume.deleteData(client, 'notes');
    expect((await volume.listData(client)).volumes).toEqual([]);
    await second.delete();
  });

  describe('a service running a small HTTP server', () => {
    let sb: ConnectedSandbox;
    let web: services.Service;
    let url: string;

    beforeAll(async () => {
      sb = await sandbox.create(sandbox.new(client, 'sdk-services'));
      await sb.exec('echo "hello from the sandbox" > /workspace/index.html');
    });

    it('is reachable through its previewUrl', async () => {
      web = await services.add(sb, 'web', 'exec python3 -m http.server 8080', { ports: [8080] });
      expect(web).toMatchObject({ name: 'web', status: 'RUNNING', ports: [8080] });
      const [port] = await ports.list(sb);
      expect(port).toMatchObject({ port: 8080 });
      url = port!.previewUrl!;
      const body = await eventually('the preview', async () => {
        const res = await fetchPreview(url);
        return res.status === 200 ? res.text() : undefined;
      });
      expect(body).toBe('hello from the sandbox\n');
    });

    it('is restarted after being killed from inside, and reachable again', async () => {
      expect((await sb.exec('pkill -9 -f "[h]ttp.server 8080"; echo $?')).stdout).toBe('0\n');
      const back = await eventually('a restart', async () => {
        const s = (await services.list(sb)).services[0]!;
        return s.status === 'RUNNING' && (s.restarts ?? 0) >= 1 ? s : undefined;
      });
      expect(back.lastExitCode).toBe(137);
      await eventually('the preview again', async () => ((await statusOf(url)) === 200 ? true : undefined));
    });

    it('is unreachable after stop, and its logs are readable', async () => {
      await services.stop(sb, web.id);
      expect((await services.list(sb)).services[0]).toMatchObject({ status: 'STOPPED' });
      expect(await statusOf(url)).toBe(502);
      const lines = await services.logs(sb, web.id);
      expect(lines.filter((l) => l.includes('"GET / HTTP/1.1" 200')).length).toBeGreaterThanOrEqual(2);
      expect(lines).toContain('[pocketenv] exited with code 137');
      expect(lines[lines.length - 1]).toBe('[pocketenv] stopped');
      await services.restart(sb, web.id);
      await eventually('the preview after restart', async () => ((await statusOf(url)) === 200 ? true : undefined));
    });

    it('network.expose gives a working URL; unexpose makes it stop working', async () => {
      const exposed = await network.expose(sb, 8080 + 1, 'second');
      await sb.exec('setsid -f python3 -m http.server 8081 > /dev/null 2>&1');
      await eventually('the second port', async () => ((await statusOf(exposed)) === 200 ? true : undefined));
      expect((await ports.list(sb)).map((p) => p.port)).toEqual([8080, 8081]);
      await expect(network.expose(sb, 8081)).rejects.toBeInstanceOf(ConflictError);
      await network.unexpose(sb, 8081);
      expect(await statusOf(exposed)).toBe(404);
    });

    it('answers 404 to another actor', async () => {
      const stolen = sandbox.connect(sb.data, other);
      await expect(services.list(stolen)).rejects.toBeInstanceOf(SandboxNotFoundError);
      await expect(ports.list(stolen)).rejects.toBeInstanceOf(SandboxNotFoundError);
      await expect(network.expose(stolen, 9999)).rejects.toBeInstanceOf(SandboxNotFoundError);
      await expect(volume.create(stolen, 'x', '/x')).rejects.toBeInstanceOf(SandboxNotFoundError);
      await expect(services.stop(other, web.id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(services.logs(other, web.id)).rejects.toBeInstanceOf(NotFoundError);
      expect((await services.list(sb)).services[0]).toMatchObject({ status: 'RUNNING' });
    });
  });
});
