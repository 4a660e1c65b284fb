/**
 * The official Go SDK (github.com/pocketenv-io/pocketenv-go) with
 * `pocketenv.New(WithBaseURL(url), WithToken(token), WithPublicKey(hex))`. It sends
 * Content-Type only with a body, and a nil body for Start/Stop/Delete and the deletes. Its
 * decoders are Go structs: a missing field decodes as the zero value without an error, so each
 * test checks the exact fields it reads. Calls that failed before: PutSshKeys (?id= only),
 * GetSshKeys ({"sshKeys": …}), Variables/Secrets Create/Get/Refresh/Update (flat objects, the
 * updated record), GetExposedPorts (`url`), lists with a limit above 100.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshkeys } from '@pocketenv/sdk';
import { startTestServer, type TestServer } from '../../src/testing';
import { FLAVOURS, WireClient, expectDecodes, ok, sealTo, type Shape } from './wire';

/** Go's sandboxView; time.Time fields must be RFC 3339 when present. */
const SANDBOX: Shape = { id: 'string', name: 'string', provider: 'string', status: 'string', vcpus: 'number', memory: 'number', disk: 'number', createdAt: 'datetime', startedAt: 'datetime?', topics: 'array?' };
const VARIABLE: Shape = { id: 'string', name: 'string', value: 'string', sandboxId: 'string', createdAt: 'datetime', updatedAt: 'datetime' };
const SECRET: Shape = { id: 'string', name: 'string', sandboxId: 'string', createdAt: 'datetime', updatedAt: 'datetime' };

let server: TestServer;
let go: WireClient;
let publicKey: string;
let sb: { id: string };

const exec = async (...command: string[]) => ok(await go.post('io.pocketenv.sandbox.exec', { id: sb.id }, { command: command.join(' ') }));

beforeAll(async () => {
  server = await startTestServer();
  go = new WireClient(server.url, server.ownerToken, FLAVOURS.go);
  publicKey = ok(await go.get('io.pocketenv.server.describeServer')).publicKey;
});

afterAll(async () => server?.close());

describe('the README quick start', () => {
  it('CreateSandbox({Base: "openclaw", Name: "my-sandbox"}) decodes the flat view; Exec("echo", "hello")', async () => {
    const view = ok(await go.post('io.pocketenv.sandbox.createSandbox', {}, { base: 'openclaw', name: 'go-box' }));
    expectDecodes(view, SANDBOX, 'CreateSandbox');
    expect(view.status).toBe('RUNNING');
    sb = view;
    expect(await exec('echo', 'hello')).toEqual({ stdout: 'hello\n', stderr: '', exitCode: 0 });
  });
});

describe('with the sandbox', () => {
  it('GetSandbox → {sandbox}; Refresh uses it', async () => {
    const { sandbox } = ok(await go.get('io.pocketenv.sandbox.getSandbox', { id: sb.id }));
    expectDecodes(sandbox, SANDBOX, 'GetSandbox');
  });

  it('ListSandboxes(0, 500): a limit above 100 is served as 100', async () => {
    const page = ok(await go.get('io.pocketenv.sandbox.getSandboxes', { offset: 0, limit: 500 }));
    expect(page).toMatchObject({ total: 1 });
    expectDecodes(page.sandboxes[0], SANDBOX, 'ListSandboxes');
  });

  it('Start (nil body) on a running sandbox', async () => {
    expect(ok(await go.post('io.pocketenv.sandbox.startSandbox', { id: sb.id }))).toEqual({});
  });

  it('ExposePort / GetExposedPorts reads url / UnexposePort', async () => {
    ok(await go.post('io.pocketenv.sandbox.exposePort', { id: sb.id }, { port: 8080, description: 'web' }));
    const { ports } = ok(await go.get('io.pocketenv.sandbox.getExposedPorts', { id: sb.id }));
    expectDecodes(ports[0], { port: 'number', description: 'string', url: 'string' }, 'ExposedPort');
    expect(ports[0].url).toMatch(/^http:\/\/8080-[a-z2-7]{20}\./); // a host-form preview of port 8080
    ok(await go.post('io.pocketenv.sandbox.unexposePort', { id: sb.id }, { port: 8080 }));
    expect(ok(await go.get('io.pocketenv.sandbox.getExposedPorts', { id: sb.id })).ports).toEqual([]);
  });

  it('PutSshKeys sends the id only as ?id=; GetSshKeys reads the sshKeys wrapper', async () => {
    const pair = sshkeys.generate();
    const answer = await go.post('io.pocketenv.sandbox.putSshKeys', { id: sb.id }, { publicKey: pair.publicKey, privateKey: await sealTo(publicKey, pair.privateKey), redacted: 'redacted' });
    expect(ok(answer)).toEqual({});
    expect((await exec('cat', '/root/.ssh/id_ed25519.pub')).stdout).toBe(`${pair.publicKey}\n`);
    const { sshKeys } = ok(await go.get('io.pocketenv.sandbox.getSshKeys', { id: sb.id }));
    expectDecodes(sshKeys, { id: 'string', publicKey: 'string', privateKey: 'string', createdAt: 'datetime' }, 'GetSshKeys');
    expect(sshKeys).toMatchObject({ id: sb.id, publicKey: pair.publicKey });
  });

  it('PutSshKeys with ?id= and a body id naming another sandbox is a 400; the same sandbox by id and name is fine', async () => {
    const pair = sshkeys.generate();
    const body = { publicKey: pair.publicKey, privateKey: await sealTo(publicKey, pair.privateKey) };
    const both = await go.post('io.pocketenv.sandbox.putSshKeys', { id: sb.id }, { ...body, id: 'someone-else' });
    expect(both.status).toBe(400);
    expect(both.body.message).toBe(`id: the body's id "someone-else" and the query's id "${sb.id}" do not name the same sandbox; send one of them`);
    expect(ok(await go.post('io.pocketenv.sandbox.putSshKeys', { id: sb.id }, { ...body, id: 'go-box' }))).toEqual({});
  });

  describe('Variables()', () => {
    let id: string;
    it('Create decodes the flat variable', async () => {
      const created = ok(await go.post('io.pocketenv.variable.addVariable', {}, { variable: { sandboxId: sb.id, name: 'MODE', value: 'dev' } }));
      expectDecodes(created, VARIABLE, 'Variable.Create');
      id = created.id;
    });
    it('List(0, 200)', async () => {
      const page = ok(await go.get('io.pocketenv.variable.getVariables', { sandboxId: sb.id, offset: 0, limit: 200 }));
      expect(page.total).toBe(1);
      expectDecodes(page.variables[0], VARIABLE, 'Variable.List');
    });
    it('Get and Refresh decode the flat variable', async () => {
      expect(ok(await go.get('io.pocketenv.variable.getVariable', { id }))).toMatchObject({ id, name: 'MODE', value: 'dev' });
    });
    it('Update decodes the updated record into the handle (its id survives)', async () => {
      const updated = ok(await go.post('io.pocketenv.variable.updateVariable', {}, { id, variable: { sandboxId: sb.id, name: 'MODE', value: 'prod' } }));
      expectDecodes(updated, VARIABLE, 'Variable.Update');
      expect(updated).toMatchObject({ id, value: 'prod' });
      expect((await exec('echo', '$MODE')).stdout).toBe('prod\n');
    });
    it('Delete (?id=, nil body)', async () => {
      expect(ok(await go.post('io.pocketenv.variable.deleteVariable', { id }))).toEqual({});
    });
  });

  describe('Secrets()', () => {
    let id: string;
    it('Add seals with WithPublicKey and decodes the flat secret', async () => {
      const added = ok(await go.post('io.pocketenv.secret.addSecret', {}, { secret: { sandboxId: sb.id, name: 'TOKEN', value: await sealTo(publicKey, 'go-secret') } }));
      expectDecodes(added, SECRET, 'Secret.Add');
      id = added.id;
      expect((await exec('printf', '%s', '"$TOKEN"')).stdout).toBe('go-secret');
    });
    it('List(0, 200), Get (flat)', async () => {
      expect(ok(await go.get('io.pocketenv.secret.getSecrets', { sandboxId: sb.id, offset: 0, limit: 200 })).secrets).toEqual([expect.objectContaining({ id, name: 'TOKEN' })]);
      expectDecodes(ok(await go.get('io.pocketenv.secret.getSecret', { id })), SECRET, 'Secret.Get');
    });
    it('Update decodes the updated record', async () => {
      const updated = ok(await go.post('io.pocketenv.secret.updateSecret', {}, { id, secret: { sandboxId: sb.id, name: 'TOKEN', value: await sealTo(publicKey, 'go-secret-2') } }));
      expect(updated).toMatchObject({ id, name: 'TOKEN' });
      expect((await exec('printf', '%s', '"$TOKEN"')).stdout).toBe('go-secret-2');
    });
    it('Delete', async () => {
      ok(await go.post('io.pocketenv.secret.deleteSecret', { id }));
    });
  });

  it('Files(): Add (sealed) / List / Get ({file}) / Update / Delete', async () => {
    ok(await go.post('io.pocketenv.file.addFile', {}, { file: { sandboxId: sb.id, path: '/workspace/go.txt', content: await sealTo(publicKey, 'go\n') } }));
    const page = ok(await go.get('io.pocketenv.file.getFiles', { sandboxId: sb.id, offset: 0, limit: 200 }));
    const { file } = ok(await go.get('io.pocketenv.file.getFile', { id: page.files[0].id }));
    expectDecodes(file, { id: 'string', path: 'string', sandboxId: 'string', createdAt: 'datetime', updatedAt: 'datetime' }, 'FileView');
    ok(await go.post('io.pocketenv.file.updateFile', {}, { id: file.id, file: { path: '/workspace/go.txt', content: await sealTo(publicKey, 'go2\n') } }));
    expect((await exec('cat', '/workspace/go.txt')).stdout).toBe('go2\n');
    ok(await go.post('io.pocketenv.file.deleteFile', { id: file.id }));
  });

  it('Volumes(): Create / List / Get ({volume}) / Update / Refresh / Delete', async () => {
    ok(await go.post('io.pocketenv.volume.addVolume', {}, { volume: { sandboxId: sb.id, name: 'go-vol', path: '/data' } }));
    const page = ok(await go.get('io.pocketenv.volume.getVolumes', { sandboxId: sb.id, offset: 0, limit: 200 }));
    expectDecodes(page.volumes[0], { id: 'string', name: 'string', path: 'string', readOnly: 'boolean', sandboxId: 'string', createdAt: 'datetime', updatedAt: 'datetime' }, 'volumeView');
    const id = page.volumes[0].id;
    ok(await go.post('io.pocketenv.volume.updateVolume', {}, { id, volume: { sandboxId: sb.id, name: 'go-vol', path: '/data2' } }));
    expect(ok(await go.get('io.pocketenv.volume.getVolume', { id })).volume).toMatchObject({ id, path: '/data2' });
    ok(await go.post('io.pocketenv.volume.deleteVolume', { id }));
  });

  it('Services(): Create / List / Start / Stop / Restart / Update / Delete', async () => {
    ok(await go.post('io.pocketenv.service.addService', { sandboxId: sb.id }, { service: { name: 'api', command: 'sleep 600', ports: [9000] } }));
    const { services } = ok(await go.get('io.pocketenv.service.getServices', { sandboxId: sb.id }));
    expectDecodes(services[0], { id: 'string', name: 'string', command: 'string', status: 'string', sandboxId: 'string?', createdAt: 'string', ports: 'array?' }, 'serviceView');
    const serviceId = services[0].id;
    for (const verb of ['stopService', 'startService', 'restartService']) expect(ok(await go.post(`io.pocketenv.service.${verb}`, { serviceId }))).toEqual({});
    ok(await go.post('io.pocketenv.service.updateService', { serviceId }, { service: { command: 'sleep 700' } }));
    ok(await go.post('io.pocketenv.service.deleteService', { serviceId }));
  });

  it('Stop and Delete (nil body)', async () => {
    expect(ok(await go.post('io.pocketenv.sandbox.stopSandbox', { id: sb.id }))).toEqual({});
    expect(ok(await go.post('io.pocketenv.sandbox.deleteSandbox', { id: sb.id }))).toEqual({});
  });
});
