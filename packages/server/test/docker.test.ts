/**
 * The docker provider through a real server (POCKETENV_DOCKER=auto finds the engine that
 * scripts/dockerd.sh started): describeServer lists it, a `provider: "docker"` sandbox is a
 * container of that engine, exec and files work over HTTP, the preview proxy reaches its port,
 * stop/start keep its files, delete removes the container, and another actor gets 404.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connectDocker, defaultEndpoint, parseEndpoint } from '@pocketenv/runtime';
import { fetchPreview, startTestServer, type TestServer } from '../src/testing';
import { Api, expectOk, waitFor } from './helpers';
import { dockerUnavailableReason, warnDockerSkipped } from '../../runtime/test/support/docker';

const unavailable = dockerUnavailableReason();
warnDockerSkipped('server docker.test.ts', unavailable);

const APP = fs.readFileSync(path.join(import.meta.dirname, 'fixtures', 'preview-app.py')).toString('base64');

describe.skipIf(!!unavailable)('sandboxes of the docker provider over HTTP', () => {
  let server: TestServer;
  let api: Api;
  let box: any;
  const docker = connectDocker(parseEndpoint(defaultEndpoint()));
  const containerOf = async (id: string) => (await docker.listContainers({ all: true, filters: { label: [`io.pocketenv.sandbox=${id}`] } }))[0];

  beforeAll(async () => {
    server = await startTestServer();
    api = new Api(server.url, server.ownerToken);
    box = await api.create({ name: 'docker-box', provider: 'docker' });
  }, 300_000);

  afterAll(async () => {
    await server?.close();
  });

  it('lists the docker provider as available in describeServer', async () => {
    const { providers } = expectOk(await api.query('io.pocketenv.server.describeServer', undefined, { token: null }));
    expect(providers).toContainEqual(expect.objectContaining({ name: 'docker', available: true }));
  });

  it('creates the sandbox as a running container of the engine and execs in it', async () => {
    expect(box).toMatchObject({ provider: 'docker', name: 'docker-box' });
    expect((await api.get(box.id)).status).toBe('RUNNING');
    expect((await containerOf(box.id))?.State).toBe('running');
    const r = await api.exec(box.id, 'hostname; test -f /.dockerenv && echo in-docker; echo oops >&2; exit 3');
    expect(r).toMatchObject({ stdout: 'docker-box\nin-docker\n', stderr: 'oops\n', exitCode: 3 });
  });

  it('refuses another actor with 404', async () => {
    const other = await server.createActor('docker-stranger');
    const reply = await api.as(other.token).procedure('io.pocketenv.sandbox.exec', { id: box.id }, { command: 'echo hi' });
    expect(reply.status).toBe(404);
  });

  it('reaches an app in the container through the preview proxy', async () => {
    const run = await api.exec(box.id, `mkdir -p /opt/app && echo ${APP} | base64 -d > /opt/app/app.py && setsid -f python3 /opt/app/app.py 9000 > /dev/null 2>&1`);
    expect(run.exitCode).toBe(0);
    await waitFor('app on port 9000', async () => {
      const probe = await api.exec(box.id, `python3 -c "import socket; socket.create_connection(('127.0.0.1', 9000), 1)" 2>/dev/null && echo up`);
      return probe.stdout.includes('up') ? true : undefined;
    }, 30_000, 100);
    const { previewUrl } = expectOk(await api.procedure('io.pocketenv.sandbox.exposePort', { id: box.id }, { port: 9000 }));
    const answer = await fetchPreview(`${previewUrl}hello?x=1`);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ path: '/hello?x=1' });
  });

  it('opens a terminal over the WebSocket: a login shell on a TTY inside the container, closing with its exit code', async () => {
    const { token } = expectOk(await api.query('io.pocketenv.actor.getTerminalToken'));
    const url = new URL(`/pty/${box.id}/ws`, server.url.replace(/^http/, 'ws'));
    url.searchParams.set('token', token);
    url.searchParams.set('cols', '90');
    url.searchParams.set('rows', '20');
    const ws = new WebSocket(url);
    let output = '';
    ws.on('message', (data: Buffer) => (output += data.toString('utf8')));
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })));
    await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
    ws.send(Buffer.from('echo "[x$((40+2))]"; tty; stty size\r'), { binary: true });
    await waitFor('the shell to answer', async () => (/\[x42\]\r\n\/dev\/pts\/\d+\r\n20 90\r\n/.test(output) ? true : undefined), 20_000, 25);
    ws.send(Buffer.from('exit 3\r'), { binary: true });
    expect(await closed).toEqual({ code: 1000, reason: 'exit 3' });
  });

  it('serves VS Code from the shared tools dir through the gated preview', async () => {
    const previewUrl = new URL(expectOk(await api.procedure('io.pocketenv.sandbox.exposeVscode', { id: box.id }, {})).previewUrl);
    const signIn = await fetchPreview(previewUrl);
    expect(signIn.status).toBe(303);
    const cookie = signIn.headers.getSetCookie()[0]!.split(';')[0]!;
    let page = await fetchPreview(new URL(signIn.headers.get('location')!, previewUrl), { headers: { cookie } });
    for (let hops = 0; page.status >= 300 && page.status < 400 && hops < 5; hops++) {
      page = await fetchPreview(new URL(page.headers.get('location')!, previewUrl), { headers: { cookie } });
    }
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/code-server/i);
  }, 240_000);

  it('keeps files across stop and start, and delete removes the container', async () => {
    await api.exec(box.id, 'echo kept > /workspace/kept.txt');
    await api.stop(box.id);
    expect((await containerOf(box.id))?.State).toBe('exited');
    await api.start(box.id);
    await waitFor('running again', async () => ((await api.get(box.id)).status === 'RUNNING' ? true : undefined), 120_000);
    expect((await api.exec(box.id, 'cat /workspace/kept.txt')).stdout).toBe('kept\n');
    await api.delete(box.id);
    await waitFor('container removed', async () => ((await containerOf(box.id)) ? undefined : true), 60_000);
  }, 240_000);
});
