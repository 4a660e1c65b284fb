/**
 * Services through a real server: a supervised HTTP server reachable through its preview URL,
 * restarted after being killed from inside, unreachable once stopped, its logs readable; a
 * crashing command reported as CRASHED with its exit code; services following their sandbox's
 * stop and start, and surviving a restart of the server; 404 for another actor everywhere.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch } from '../src/server';
import { fetchPreview, startTestServer, type TestServer } from '../src/testing';
import { Api, expectOk, waitFor } from './helpers';

let server: TestServer;
let api: Api;
let box: any;

async function services(sandboxId: string): Promise<any[]> {
  return expectOk(await api.query('io.pocketenv.service.getServices', { sandboxId })).services;
}

async function serviceNamed(sandboxId: string, name: string): Promise<any> {
  return (await services(sandboxId)).find((s) => s.name === name);
}

async function previewUrlOf(sandboxId: string, port: number): Promise<string> {
  const ports = expectOk(await api.query('io.pocketenv.sandbox.getExposedPorts', { id: sandboxId })).ports;
  return ports.find((p: any) => p.port === port).previewUrl;
}

/** The status of a GET, or 0 when the proxy itself cannot be reached. */
async function statusOf(url: string): Promise<number> {
  return (await fetchPreview(url).catch(() => ({ status: 0 }))).status;
}

async function logs(serviceId: string, lines?: number): Promise<string[]> {
  return expectOk(await api.query('io.pocketenv.service.getServiceLogs', { serviceId, ...(lines ? { lines } : {}) })).lines;
}

const call = (nsid: string, serviceId: string) => api.procedure(`io.pocketenv.service.${nsid}`, { serviceId }, {});

beforeAll(async () => {
  server = await startTestServer();
  api = new Api(server.url, server.ownerToken);
  box = await api.create({ name: 'services-box' });
  await api.exec(box.id, 'echo "served by the web service" > /workspace/index.html');
});

afterAll(async () => {
  await server?.close();
});

describe('a supervised HTTP server', () => {
  let web: any;
  let url: string;

  it('is started at once and reachable through the preview URL of its port', async () => {
    const added = expectOk(
      await api.procedure('io.pocketenv.service.addService', { sandboxId: box.name }, {
        service: { name: 'web', command: 'exec python3 -m http.server 8080', description: 'static files', ports: [8080] },
      }),
    );
    web = added.service;
    expect(web).toMatchObject({ name: 'web', command: 'exec python3 -m http.server 8080', description: 'static files', ports: [8080], status: 'RUNNING', restarts: 0 });
    expect(web.id).toMatch(/^svc_/);

    url = await previewUrlOf(box.id, 8080);
    const body = await waitFor('the web service to answer', async () => {
      const res = await fetchPreview(url).catch(() => undefined);
      return res?.status === 200 ? res.text() : undefined;
    }, 30_000, 100);
    expect(body).toBe('served by the web service\n');
  });

  it('is restarted after being killed from inside the sandbox, and reachable again', async () => {
    const killed = await api.exec(box.id, 'pkill -9 -f "[h]ttp.server 8080"; echo $?');
    expect(killed.stdout).toBe('0\n');
    const back = await waitFor('the service to be restarted', async () => {
      const s = await serviceNamed(box.id, 'web');
      return s.status === 'RUNNING' && s.restarts >= 1 ? s : undefined;
    }, 30_000, 100);
    expect(back).toMatchObject({ lastExitCode: 137 });
    await waitFor('the preview to answer again', async () => ((await statusOf(url)) === 200 ? true : undefined), 30_000, 100);
  });

  it('keeps its output, with the restarts, readable as logs', async () => {
    const lines = await logs(web.id);
    expect(lines.some((l) => l.includes('"GET / HTTP/1.1" 200'))).toBe(true);
    expect(lines).toContain('[pocketenv] exited with code 137');
    expect(await logs(web.id, 1)).toEqual([lines[lines.length - 1]]);
  });

  it('is unreachable once stopped, and STOPPED until started again', async () => {
    expectOk(await call('stopService', web.id));
    expect(await serviceNamed(box.id, 'web')).toMatchObject({ status: 'STOPPED' });
    expect(await statusOf(url)).toBe(502);
    expect((await api.exec(box.id, 'pgrep -f "[h]ttp.server 8080" || echo none')).stdout).toBe('none\n');
    expect(await logs(web.id)).toContain('[pocketenv] stopped');

    expectOk(await call('stopService', web.id)); // stopping a stopped service is fine
    expectOk(await call('startService', web.id));
    expect(await serviceNamed(box.id, 'web')).toMatchObject({ status: 'RUNNING' });
    await waitFor('the preview to answer after start', async () => ((await statusOf(url)) === 200 ? true : undefined), 30_000, 100);
  });

  it('picks up a changed command on restart', async () => {
    expectOk(await api.procedure('io.pocketenv.service.updateService', { serviceId: web.id }, { service: { command: 'exec python3 -m http.server 8080 --directory /etc' } }));
    expect((await api.exec(box.id, 'pgrep -f "[d]irectory /etc" || echo none')).stdout).toBe('none\n'); // not before the restart
    expectOk(await call('restartService', web.id));
    const s = await serviceNamed(box.id, 'web');
    expect(s).toMatchObject({ status: 'RUNNING', command: 'exec python3 -m http.server 8080 --directory /etc' });
    const hostname = await waitFor('the new command to serve', async () => {
      const res = await fetchPreview(`${url}hostname`).catch(() => undefined);
      return res?.status === 200 ? res.text() : undefined;
    }, 30_000, 100);
    expect(hostname).toBe('services-box\n');
  });

  it('is removed with its exposed port by deleteService', async () => {
    expectOk(await call('deleteService', web.id));
    expect(await serviceNamed(box.id, 'web')).toBeUndefined();
    expect(expectOk(await api.query('io.pocketenv.sandbox.getExposedPorts', { id: box.id })).ports).toEqual([]);
    expect(await statusOf(url)).toBe(404);
    expect((await api.exec(box.id, 'pgrep -f "[h]ttp.server 8080" || echo none')).stdout).toBe('none\n');
    expect(await call('startService', web.id)).toMatchObject({ status: 404, body: { error: 'NotFound' } });
  });
});

describe('a command that keeps failing', () => {
  it('is CRASHED with its exit code between restarts, and its output is kept across them', async () => {
    const { service } = expectOk(
      await api.procedure('io.pocketenv.service.addService', { sandboxId: box.id }, { service: { name: 'flaky', command: 'echo "boom in $PWD"; exit 3' } }),
    );
    const crashed = await waitFor('a restart after a crash', async () => {
      const s = await serviceNamed(box.id, 'flaky');
      return s.restarts >= 1 && s.status === 'CRASHED' ? s : undefined;
    }, 30_000, 100);
    expect(crashed.lastExitCode).toBe(3);
    const lines = await logs(service.id);
    expect(lines.filter((l) => l === 'boom in /workspace').length).toBeGreaterThanOrEqual(2);
    expect(lines).toContain('[pocketenv] exited with code 3');
    expectOk(await call('deleteService', service.id));
  });

  it('gets the sandbox environment (variables) like exec does', async () => {
    expectOk(await api.procedure('io.pocketenv.variable.addVariable', undefined, { variable: { sandboxId: box.id, name: 'GREETING', value: 'hello from a variable' } }));
    const { service } = expectOk(
      await api.procedure('io.pocketenv.service.addService', { sandboxId: box.id }, { service: { name: 'env', command: 'echo "greeting=$GREETING"; exec sleep 1000' } }),
    );
    const line = await waitFor('the service output', async () => (await logs(service.id)).find((l) => l.startsWith('greeting=')), 30_000, 100);
    expect(line).toBe('greeting=hello from a variable');
    expectOk(await call('deleteService', service.id));
  });
});

describe('a service whose supervisor was killed', () => {
  it('shows ERROR, and a restart ends what it left running before starting it again', async () => {
    const { service } = expectOk(
      await api.procedure('io.pocketenv.service.addService', { sandboxId: box.id }, { service: { name: 'orphaned', command: 'exec sleep 4321' } }),
    );
    await api.exec(box.id, `pkill -9 -f "${service.id}/[s]upervise"`);
    expect(await serviceNamed(box.id, 'orphaned')).toMatchObject({ status: 'ERROR' });
    expect((await api.exec(box.id, 'pgrep -c -f "[s]leep 4321"')).stdout).toBe('1\n'); // the service itself still runs, unsupervised

    expectOk(await call('restartService', service.id));
    expect(await serviceNamed(box.id, 'orphaned')).toMatchObject({ status: 'RUNNING', restarts: 0 });
    expect((await api.exec(box.id, 'pgrep -c -f "[s]leep 4321"')).stdout).toBe('1\n');
    expectOk(await call('deleteService', service.id));
    expect((await api.exec(box.id, 'pgrep -c -f "[s]leep 4321"')).stdout).toBe('0\n');
  });
});

describe('with the sandbox', () => {
  it('are STOPPED while it is stopped and started again with it; their ports work again', async () => {
    const sb = await api.create({ name: 'services-lifecycle' });
    const { service } = expectOk(
      await api.procedure('io.pocketenv.service.addService', { sandboxId: sb.id }, { service: { name: 'web', command: 'exec python3 -m http.server 8081', ports: [8081] } }),
    );
    const url = await previewUrlOf(sb.id, 8081);
    await waitFor('the service', async () => ((await statusOf(url)) === 200 ? true : undefined), 30_000, 100);
    expectOk(await call('stopService', service.id)); // stopped by its owner: a sandbox start still starts it

    const { service: gone } = expectOk(
      await api.procedure('io.pocketenv.service.addService', { sandboxId: sb.id }, { service: { name: 'gone', command: 'exec sleep 1234' } }),
    );

    await api.stop(sb.id);
    expect(await serviceNamed(sb.id, 'web')).toMatchObject({ status: 'STOPPED' });
    expectOk(await call('deleteService', gone.id)); // deleted while the sandbox is stopped
    expect(await call('startService', service.id)).toMatchObject({ status: 400 });
    // The logs live in the sandbox: readable again once it runs.
    expect(await api.query('io.pocketenv.service.getServiceLogs', { serviceId: service.id })).toMatchObject({ status: 400 });

    await api.start(sb.id);
    expect(await serviceNamed(sb.id, 'web')).toMatchObject({ status: 'RUNNING', restarts: 0 });
    await waitFor('the service after the sandbox start', async () => ((await statusOf(url)) === 200 ? true : undefined), 30_000, 100);
    // The one deleted meanwhile neither runs nor leaves its files (logs) behind.
    expect((await api.exec(sb.id, 'pgrep -f "[s]leep 1234" || echo none; ls /run/pocketenv/services')).stdout).toBe(`none\n${service.id}\n`);
    await api.delete(sb.id);
  });

  it('keep running across a restart of the server (the supervisor lives in the sandbox)', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-services-restart-'));
    let second: TestServer | undefined;
    try {
      const first = await launch({ dataDir, port: 0, host: '127.0.0.1' });
      const firstApi = new Api(first.server.url, first.server.ownerToken);
      const sb = await firstApi.create({ name: 'outlives-server' });
      const { service } = expectOk(
        await firstApi.procedure('io.pocketenv.service.addService', { sandboxId: sb.id }, { service: { name: 'ticker', command: 'while :; do date +%s%N; sleep 0.2; done' } }),
      );
      const pid = (await firstApi.exec(sb.id, 'pgrep -o -f "^sh -c [w]hile :"')).stdout;
      await first.server.close();

      second = await startTestServer({ dataDir });
      const secondApi = new Api(second.url, second.ownerToken);
      const after = expectOk(await secondApi.query('io.pocketenv.service.getServices', { sandboxId: sb.id })).services[0];
      expect(after).toMatchObject({ id: service.id, status: 'RUNNING', restarts: 0 });
      expect((await secondApi.exec(sb.id, 'pgrep -o -f "^sh -c [w]hile :"')).stdout).toBe(pid);
      const before = (await secondApi.query('io.pocketenv.service.getServiceLogs', { serviceId: service.id })).body.lines.length;
      await waitFor('more output', async () => {
        const now = expectOk(await secondApi.query('io.pocketenv.service.getServiceLogs', { serviceId: service.id })).lines.length;
        return now > before ? true : undefined;
      }, 30_000, 100);
    } finally {
      await second?.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('validation', () => {
  it('refuses bad names (400), taken names and ports (409), a port listed twice (400)', async () => {
    const add = (service: Record<string, unknown>) => api.procedure('io.pocketenv.service.addService', { sandboxId: box.id }, { service: { command: 'sleep 1000', ...service } });
    expect(await add({ name: 'Bad_Name' })).toMatchObject({ status: 400, body: { error: 'InvalidRequest' } });
    expect(await add({ name: 'twice', ports: [9300, 9300] })).toMatchObject({ status: 400 });
    const first = expectOk(await add({ name: 'holder', ports: [9301] }));
    expect(await add({ name: 'holder' })).toMatchObject({ status: 409, body: { error: 'Conflict' } });
    expect(await add({ name: 'other', ports: [9301] })).toMatchObject({ status: 409, body: { error: 'Conflict' } });
    expectOk(await api.procedure('io.pocketenv.sandbox.exposePort', { id: box.id }, { port: 9302 }));
    expect(await add({ name: 'other', ports: [9302] })).toMatchObject({ status: 409 });
    // Nothing of the refused services was kept.
    expect((await services(box.id)).map((s) => s.name)).toEqual(['holder']);
    expectOk(await call('deleteService', first.service.id));
  });
});

describe('another actor', () => {
  it('gets 404 from every service method, and the owner’s service is untouched', async () => {
    const { service } = expectOk(
      await api.procedure('io.pocketenv.service.addService', { sandboxId: box.id }, { service: { name: 'private', command: 'exec sleep 1000' } }),
    );
    const mallory = await server.createActor('mallory-services');
    const as = api.as(mallory.token);
    for (const key of [box.id, box.name]) {
      expect(await as.procedure('io.pocketenv.service.addService', { sandboxId: key }, { service: { name: 'intruder', command: 'true' } })).toMatchObject({ status: 404, body: { error: 'SandboxNotFound' } });
      expect(await as.query('io.pocketenv.service.getServices', { sandboxId: key })).toMatchObject({ status: 404, body: { error: 'SandboxNotFound' } });
    }
    const byId: Array<[string, 'GET' | 'POST', unknown]> = [
      ['updateService', 'POST', { service: { command: 'echo pwned' } }],
      ['startService', 'POST', {}],
      ['stopService', 'POST', {}],
      ['restartService', 'POST', {}],
      ['getServiceLogs', 'GET', undefined],
      ['deleteService', 'POST', {}],
    ];
    for (const [name, method, body] of byId) {
      const reply = await as.call(`io.pocketenv.service.${name}`, method, { params: { serviceId: service.id }, body });
      expect({ name, status: reply.status, error: reply.body?.error }).toEqual({ name, status: 404, error: 'NotFound' });
    }
    expect(await serviceNamed(box.id, 'private')).toMatchObject({ command: 'exec sleep 1000', status: 'RUNNING', restarts: 0 });
    expect((await services(box.id)).map((s) => s.name)).not.toContain('intruder');
  });
});
