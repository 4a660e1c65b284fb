/**
 * The official Rust SDK (crate pocketenv 0.1.0): `PocketenvClient::new(api_url, token)`.
 * reqwest sends JSON with `.json()` and nothing at all otherwise (stop, delete, the deletes,
 * service verbs); start sends `{}`. Its serde structs fail the whole call on a missing required
 * field, so each test checks those. The crate has no sealing: secret values, file contents and
 * the SSH private key go out as the caller passes them — plaintext unless the caller sealed
 * them to describeServer's key — and the server seals plaintext itself. Calls that failed
 * before: claim ({"sandbox": …}), lists with a limit above 100.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshkeys } from '@pocketenv/sdk';
import { startTestServer, type TestServer } from '../../src/testing';
import { FLAVOURS, WireClient, expectDecodes, ok, sealTo, type Shape } from './wire';

/** The Rust SandboxView: only `id` is required (a String); the rest are Options. */
const SANDBOX: Shape = { id: 'string', name: 'string?', provider: 'string?', status: 'string?', baseSandbox: 'string?', vcpus: 'number?', memory: 'number?', disk: 'number?', installs: 'number?', topics: 'array?', createdAt: 'string?', startedAt: 'string?' };

let server: TestServer;
let rust: WireClient;
let sb: { id: string };

const exec = async (command: string) => ok(await rust.post('io.pocketenv.sandbox.exec', { id: sb.id }, { command }));

beforeAll(async () => {
  server = await startTestServer();
  rust = new WireClient(server.url, server.ownerToken, FLAVOURS.rust);
});

afterAll(async () => server?.close());

describe('sandboxes', () => {
  it('create (the README: provider "cloudflare", memory and disk in GB) decodes the flat view', async () => {
    const view = ok(await rust.post('io.pocketenv.sandbox.createSandbox', {}, { base: 'debian', name: 'rust-box', provider: 'cloudflare', memory: 1, disk: 3, keepAlive: true }));
    expectDecodes(view, SANDBOX, 'create');
    expect(view).toMatchObject({ provider: 'cloudflare', runsOn: 'local', memory: 1 });
    sb = view;
  });

  it('get → {sandbox}', async () => {
    expectDecodes(ok(await rust.get('io.pocketenv.sandbox.getSandbox', { id: sb.id })).sandbox, SANDBOX, 'get');
  });

  it('list(0, 1000) and list_by_actor(did, 0, 1000): limits above 100 are served as 100', async () => {
    expect(ok(await rust.get('io.pocketenv.sandbox.getSandboxes', { offset: 0, limit: 1000 })).sandboxes).toEqual([expect.objectContaining({ id: sb.id })]);
    const { did } = ok(await rust.get('io.pocketenv.actor.getProfile'));
    expect(ok(await rust.get('io.pocketenv.actor.getActorSandboxes', { did, offset: 0, limit: 1000 })).sandboxes).toHaveLength(1);
  });

  it('claim → {sandbox} (your own sandbox is found as is)', async () => {
    const claimed = ok(await rust.post('io.pocketenv.sandbox.claimSandbox', { id: sb.id }));
    expectDecodes(claimed.sandbox, SANDBOX, 'claim');
    expect(claimed.sandbox.id).toBe(sb.id);
    expect(claimed.id).toBe(sb.id); // the contract's flat view is still there
  });

  it('start sends {}; exec decodes stdout, stderr, exitCode', async () => {
    expect(ok(await rust.post('io.pocketenv.sandbox.startSandbox', { id: sb.id }, {}))).toEqual({});
    expect(await exec('echo hi; exit 2')).toMatchObject({ stdout: 'hi\n', stderr: '', exitCode: 2 });
  });

  it('expose → previewUrl; get_exposed_ports → [{port, description, previewUrl}]; unexpose', async () => {
    const { previewUrl } = ok(await rust.post('io.pocketenv.sandbox.exposePort', { id: sb.id }, { port: 5173 }));
    expect(previewUrl).toBeTypeOf('string');
    const { ports } = ok(await rust.get('io.pocketenv.sandbox.getExposedPorts', { id: sb.id }));
    expectDecodes(ports[0], { port: 'number', description: 'string?', previewUrl: 'string?' }, 'PortView');
    ok(await rust.post('io.pocketenv.sandbox.unexposePort', { id: sb.id }, { port: 5173 }));
  });

  it('put_ssh_keys with the PEM as given (unsealed) / get_ssh_keys decodes the flat {id, privateKey, publicKey, createdAt}', async () => {
    const pair = sshkeys.generate();
    ok(await rust.post('io.pocketenv.sandbox.putSshKeys', {}, { id: sb.id, privateKey: pair.privateKey, publicKey: pair.publicKey, redacted: 'hidden' }));
    expect((await exec('test -s /root/.ssh/id_ed25519 && echo installed')).stdout).toBe('installed\n');
    const keys = ok(await rust.get('io.pocketenv.sandbox.getSshKeys', { id: sb.id }));
    expectDecodes(keys, { id: 'string', privateKey: 'string', publicKey: 'string', createdAt: 'string' }, 'SshKeysView');
    expect(keys.privateKey).not.toContain(pair.privateKey.split('\n')[1]);
  });
});

describe('variables', () => {
  let id: string;
  it('add (answer ignored), list(sandbox, 0, 500) decodes {id, name, value, createdAt}', async () => {
    ok(await rust.post('io.pocketenv.variable.addVariable', {}, { variable: { sandboxId: sb.id, name: 'LANG_RS', value: 'rust' } }));
    const { variables } = ok(await rust.get('io.pocketenv.variable.getVariables', { sandboxId: sb.id, offset: 0, limit: 500 }));
    expectDecodes(variables[0], { id: 'string', name: 'string', value: 'string', createdAt: 'string' }, 'VariableView');
    id = variables[0].id;
  });
  it('get → {variable}; update; delete (no body)', async () => {
    expect(ok(await rust.get('io.pocketenv.variable.getVariable', { id })).variable).toMatchObject({ id, value: 'rust' });
    ok(await rust.post('io.pocketenv.variable.updateVariable', {}, { id, variable: { sandboxId: sb.id, name: 'LANG_RS', value: 'ferris' } }));
    expect((await exec('echo $LANG_RS')).stdout).toBe('ferris\n');
    ok(await rust.post('io.pocketenv.variable.deleteVariable', { id }));
  });
});

describe('secrets (values as the caller passes them)', () => {
  let id: string;
  it('add a plaintext value; the sandbox sees it', async () => {
    ok(await rust.post('io.pocketenv.secret.addSecret', {}, { secret: { sandboxId: sb.id, name: 'RS_TOKEN', value: 'plain-rust-token' } }));
    expect((await exec('printf %s "$RS_TOKEN"')).stdout).toBe('plain-rust-token');
    const { secrets } = ok(await rust.get('io.pocketenv.secret.getSecrets', { sandboxId: sb.id, offset: 0, limit: 500 }));
    expectDecodes(secrets[0], { id: 'string', name: 'string', createdAt: 'string' }, 'SecretView');
    id = secrets[0].id;
  });
  it('get → {secret}; update with a value the caller sealed to describeServer.publicKey; delete', async () => {
    expect(ok(await rust.get('io.pocketenv.secret.getSecret', { id })).secret).toMatchObject({ id, name: 'RS_TOKEN' });
    const publicKey = ok(await rust.get('io.pocketenv.server.describeServer')).publicKey;
    ok(await rust.post('io.pocketenv.secret.updateSecret', {}, { id, secret: { sandboxId: sb.id, name: 'RS_TOKEN', value: await sealTo(publicKey, 'sealed-rust-token') } }));
    expect((await exec('printf %s "$RS_TOKEN"')).stdout).toBe('sealed-rust-token');
    ok(await rust.post('io.pocketenv.secret.deleteSecret', { id }));
  });
});

it('files: add (plaintext content), list, get → {file}, update, delete', async () => {
  ok(await rust.post('io.pocketenv.file.addFile', {}, { file: { sandboxId: sb.id, path: '/workspace/Cargo.toml', content: '[package]\nname = "x"\n' } }));
  expect((await exec('cat /workspace/Cargo.toml')).stdout).toBe('[package]\nname = "x"\n');
  const { files } = ok(await rust.get('io.pocketenv.file.getFiles', { sandboxId: sb.id, offset: 0, limit: 500 }));
  expectDecodes(files[0], { id: 'string', path: 'string', createdAt: 'string' }, 'FileView');
  expectDecodes(ok(await rust.get('io.pocketenv.file.getFile', { id: files[0].id })).file, { id: 'string', path: 'string', createdAt: 'string' }, 'get file');
  ok(await rust.post('io.pocketenv.file.updateFile', {}, { id: files[0].id, file: { path: '/workspace/Cargo.toml', content: '[package]\n' } }));
  expect((await exec('cat /workspace/Cargo.toml')).stdout).toBe('[package]\n');
  ok(await rust.post('io.pocketenv.file.deleteFile', { id: files[0].id }));
});

it('volumes: add, list, get → {volume}, update, delete', async () => {
  ok(await rust.post('io.pocketenv.volume.addVolume', {}, { volume: { sandboxId: sb.id, name: 'rs-vol', path: '/rs' } }));
  const { volumes } = ok(await rust.get('io.pocketenv.volume.getVolumes', { sandboxId: sb.id, offset: 0, limit: 500 }));
  expectDecodes(volumes[0], { id: 'string', name: 'string', path: 'string', createdAt: 'string' }, 'VolumeView');
  ok(await rust.post('io.pocketenv.volume.updateVolume', {}, { id: volumes[0].id, volume: { sandboxId: sb.id, name: 'rs-vol', path: '/rs2' } }));
  expect(ok(await rust.get('io.pocketenv.volume.getVolume', { id: volumes[0].id })).volume).toMatchObject({ path: '/rs2' });
  ok(await rust.post('io.pocketenv.volume.deleteVolume', { id: volumes[0].id }));
});

it('services: add, list decodes {id, name, command, status, createdAt}, start/stop/restart (no body), update, delete', async () => {
  ok(await rust.post('io.pocketenv.service.addService', { sandboxId: sb.id }, { service: { name: 'worker', command: 'sleep 600', ports: [7000], description: 'bg' } }));
  const { services } = ok(await rust.get('io.pocketenv.service.getServices', { sandboxId: sb.id }));
  expectDecodes(services[0], { id: 'string', name: 'string', command: 'string', status: 'string', createdAt: 'string', ports: 'array?', description: 'string?' }, 'ServiceView');
  const serviceId = services[0].id;
  for (const verb of ['stopService', 'startService', 'restartService']) ok(await rust.post(`io.pocketenv.service.${verb}`, { serviceId }));
  ok(await rust.post('io.pocketenv.service.updateService', { serviceId }, { service: { name: 'worker', command: 'sleep 700' } }));
  ok(await rust.post('io.pocketenv.service.deleteService', { serviceId }));
});

it('stop and delete: no body, no Content-Type', async () => {
  ok(await rust.post('io.pocketenv.sandbox.stopSandbox', { id: sb.id }));
  ok(await rust.post('io.pocketenv.sandbox.deleteSandbox', { id: sb.id }));
  expect(ok(await rust.get('io.pocketenv.sandbox.getSandbox', { id: sb.id }))).toEqual({ sandbox: null });
});
