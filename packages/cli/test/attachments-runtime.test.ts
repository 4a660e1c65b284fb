import { pocketenv, sandbox } from '@pocketenv/sdk';
import { fetchPreview, startTestServer } from '@pocketenv/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli';

// `pocketenv service | expose | unexpose | ports | volume` as a user runs them (a few
// subprocesses; the sandbox itself is made through the SDK to save one).
describe('pocketenv service, expose, ports and volume', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let env: Record<string, string>;
  const cli = (...args: string[]) => runCli(args, env);

  async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!(await check().catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  // Preview URLs are on `*.localhost` hosts, which Node's resolver does not resolve (browsers and curl do).
  const statusOf = async (url: string) => (await fetchPreview(url)).status;

  beforeAll(async () => {
    server = await startTestServer();
    const alice = await server.createActor('alice');
    env = { POCKETENV_API_URL: server.url, POCKETENV_TOKEN: alice.token };
    const sb = await sandbox.create(sandbox.new(pocketenv.newClient(alice.token, { baseUrl: server.url }), 'cli-att'));
    await sb.exec('echo "hello from the cli box" > /workspace/index.html');
  });
  afterAll(async () => {
    await server?.close();
  });

  it('service create → ports → preview works → logs → stop makes it unreachable', async () => {
    const created = await cli('service', 'create', 'cli-att', 'web', '-p', '8080', '--', 'python3', '-m', 'http.server', '8080');
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^Service web added to cli-att \(svc_\S+, RUNNING\)\n$/);

    const listed = await cli('ports', 'cli-att', '--json');
    const [port] = JSON.parse(listed.stdout);
    expect(port).toMatchObject({ port: 8080, description: 'service web' });
    await eventually('the preview', async () => (await statusOf(port.previewUrl)) === 200);
    expect(await (await fetchPreview(port.previewUrl)).text()).toBe('hello from the cli box\n');

    const table = await cli('service', 'ls', 'cli-att');
    const [header, row] = table.stdout.trimEnd().split('\n');
    expect(header!.split(/\s{2,}/)).toEqual(['ID', 'NAME', 'COMMAND', 'STATUS', 'PORTS', 'CREATED AT']);
    expect(row!.split(/\s{2,}/).slice(1, 5)).toEqual(['web', 'python3 -m http.server 8080', 'RUNNING', '8080']);

    const logs = await cli('service', 'logs', 'cli-att', 'web', '-n', '1');
    expect(logs).toMatchObject({ code: 0, stderr: '' });
    expect(logs.stdout).toMatch(/^\S+ - - \[.*\] "GET \/ HTTP\/1\.1" 200 -\n$/);

    expect(await cli('service', 'stop', 'cli-att', 'web')).toMatchObject({ code: 0, stdout: 'Stopped web\n' });
    expect(await statusOf(port.previewUrl)).toBe(502);
  });

  it('expose prints a preview URL that works; unexpose makes it stop working', async () => {
    const second = await cli('expose', 'cli-att', '8081', 'second app');
    expect(second.code).toBe(0);
    const url = /Preview URL: (\S+)/.exec(second.stdout)![1]!;
    const client = pocketenv.newClient(env.POCKETENV_TOKEN, { baseUrl: server.url });
    const sb = sandbox.connect((await sandbox.get(client, 'cli-att'))!, client);
    await sb.exec('setsid -f python3 -m http.server 8081 > /dev/null 2>&1');
    await eventually('the second app', async () => (await statusOf(url)) === 200);

    expect(await cli('unexpose', 'cli-att', '8081')).toMatchObject({ code: 0, stdout: 'Port 8081 of cli-att is no longer exposed\n' });
    expect(await statusOf(url)).toBe(404);
  });

  it('volume put / ls / rm, and volume data ls / rm', async () => {
    const put = await cli('volume', 'put', 'cli-att', 'shared', '/data', '--read-only');
    expect(put).toMatchObject({ code: 0, stdout: 'Volume shared mounted at /data (read-only) in cli-att from its next start\n' });

    const listed = await cli('volume', 'ls', 'cli-att');
    expect(listed.stdout.trimEnd().split('\n')[1]!.split(/\s{2,}/).slice(1, 4)).toEqual(['shared', '/data', 'ro']);

    expect(await cli('volume', 'rm', 'cli-att', 'shared')).toMatchObject({ code: 0, stdout: 'Unmounted volume shared (its data is kept)\n' });
    const data = await cli('volume', 'data', 'ls', '--json');
    expect(JSON.parse(data.stdout)).toMatchObject([{ name: 'shared', sandboxIds: [] }]);
    expect(await cli('volume', 'data', 'rm', 'shared')).toMatchObject({ code: 0, stdout: 'Deleted the data of volume shared\n' });
  });
});
