import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lexicons, parseLexiconDoc } from '@atproto/lexicon';
import { describe, expect, it } from 'vitest';
import {
  LEXICON_DIR,
  lexiconDocs,
  lexicons,
  listLexiconFiles,
  loadLexiconDocs,
  methods,
} from '@pocketenv/lexicons';
import { generateTypes } from '../src/codegen';

// The wire contract (/work/shared/contract.md) plus our additions, as [nsid, kind].
const CONTRACT_METHODS: [string, 'query' | 'procedure'][] = [
  ['io.pocketenv.server.describeServer', 'query'],
  ['io.pocketenv.actor.getProfile', 'query'],
  ['io.pocketenv.actor.getActorSandboxes', 'query'],
  ['io.pocketenv.actor.getTerminalToken', 'query'],
  ['io.pocketenv.sandbox.createSandbox', 'procedure'],
  ['io.pocketenv.sandbox.getSandbox', 'query'],
  ['io.pocketenv.sandbox.getSandboxes', 'query'],
  ['io.pocketenv.sandbox.startSandbox', 'procedure'],
  ['io.pocketenv.sandbox.stopSandbox', 'procedure'],
  ['io.pocketenv.sandbox.deleteSandbox', 'procedure'],
  ['io.pocketenv.sandbox.exec', 'procedure'],
  ['io.pocketenv.sandbox.claimSandbox', 'procedure'],
  // Our additions: pause, resume and fork.
  ['io.pocketenv.sandbox.pauseSandbox', 'procedure'],
  ['io.pocketenv.sandbox.resumeSandbox', 'procedure'],
  ['io.pocketenv.sandbox.forkSandbox', 'procedure'],
  ['io.pocketenv.sandbox.getPreferences', 'query'],
  ['io.pocketenv.sandbox.putPreferences', 'procedure'],
  ['io.pocketenv.sandbox.exposePort', 'procedure'],
  ['io.pocketenv.sandbox.unexposePort', 'procedure'],
  ['io.pocketenv.sandbox.getExposedPorts', 'query'],
  ['io.pocketenv.sandbox.exposeVscode', 'procedure'],
  ['io.pocketenv.sandbox.putSshKeys', 'procedure'],
  ['io.pocketenv.sandbox.getSshKeys', 'query'],
  ['io.pocketenv.sandbox.putTailscaleAuthKey', 'procedure'],
  ['io.pocketenv.sandbox.getTailscaleAuthKey', 'query'],
  ['io.pocketenv.sandbox.createBackup', 'procedure'],
  ['io.pocketenv.sandbox.getBackups', 'query'],
  ['io.pocketenv.sandbox.restoreBackup', 'procedure'],
  ['io.pocketenv.sandbox.pushDirectory', 'procedure'],
  ['io.pocketenv.sandbox.pullDirectory', 'procedure'],
  ['io.pocketenv.variable.addVariable', 'procedure'],
  ['io.pocketenv.variable.getVariables', 'query'],
  ['io.pocketenv.variable.getVariable', 'query'],
  ['io.pocketenv.variable.updateVariable', 'procedure'],
  ['io.pocketenv.variable.deleteVariable', 'procedure'],
  ['io.pocketenv.secret.addSecret', 'procedure'],
  ['io.pocketenv.secret.getSecrets', 'query'],
  ['io.pocketenv.secret.getSecret', 'query'],
  ['io.pocketenv.secret.updateSecret', 'procedure'],
  ['io.pocketenv.secret.deleteSecret', 'procedure'],
  ['io.pocketenv.file.addFile', 'procedure'],
  ['io.pocketenv.file.getFiles', 'query'],
  ['io.pocketenv.file.getFile', 'query'],
  ['io.pocketenv.file.updateFile', 'procedure'],
  ['io.pocketenv.file.deleteFile', 'procedure'],
  ['io.pocketenv.volume.addVolume', 'procedure'],
  ['io.pocketenv.volume.getVolumes', 'query'],
  ['io.pocketenv.volume.getVolume', 'query'],
  ['io.pocketenv.volume.updateVolume', 'procedure'],
  ['io.pocketenv.volume.deleteVolume', 'procedure'],
  ['io.pocketenv.volume.getVolumeData', 'query'], // our addition
  ['io.pocketenv.volume.deleteVolumeData', 'procedure'], // our addition
  ['io.pocketenv.service.addService', 'procedure'],
  ['io.pocketenv.service.getServices', 'query'],
  ['io.pocketenv.service.updateService', 'procedure'],
  ['io.pocketenv.service.startService', 'procedure'],
  ['io.pocketenv.service.stopService', 'procedure'],
  ['io.pocketenv.service.restartService', 'procedure'],
  ['io.pocketenv.service.deleteService', 'procedure'],
  ['io.pocketenv.service.getServiceLogs', 'query'], // our addition
];

const GENERATED_FILE = join(LEXICON_DIR, '..', 'src', 'generated', 'types.gen.ts');

/** Every `ref`/`refs` string anywhere in a value. */
function collectRefs(value: unknown, into: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const item of value) collectRefs(item, into);
  } else if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if (obj.type === 'ref' && typeof obj.ref === 'string') into.push(obj.ref);
    if (obj.type === 'union' && Array.isArray(obj.refs)) into.push(...(obj.refs as string[]));
    for (const child of Object.values(obj)) collectRefs(child, into);
  }
  return into;
}

function rejection(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a validation error, but the value was accepted');
}

describe('lexicon documents', () => {
  it('every JSON file parses, is a valid lexicon and is accepted by new Lexicons()', () => {
    const files = listLexiconFiles();
    expect(files.length).toBe(lexiconDocs.length);
    for (const file of files) {
      const json = JSON.parse(readFileSync(join(LEXICON_DIR, file), 'utf8'));
      // parseLexiconDoc strips keys it does not know; equality means no misspelled keys.
      expect(parseLexiconDoc(json), file).toEqual(json);
    }
    expect(() => new Lexicons(loadLexiconDocs())).not.toThrow();
  });

  it('every ref resolves (the hosted lexicons had dangling ones, e.g. sandbox.defs#secrets)', () => {
    for (const doc of loadLexiconDocs()) {
      for (const ref of collectRefs(doc.defs)) {
        const full = ref.startsWith('#') ? `${doc.id}${ref}` : ref;
        expect(lexicons.getDef(full), `${doc.id} refers to ${ref}`).toBeDefined();
      }
    }
  });

  it('the generated types are up to date (run `npm run gen -w packages/lexicons`)', () => {
    expect(readFileSync(GENERATED_FILE, 'utf8')).toBe(generateTypes(loadLexiconDocs()));
  });

  it('defines every contract method with the right kind, and nothing else', () => {
    const byNsid = new Map(methods.map((m) => [m.nsid, m]));
    for (const [nsid, kind] of CONTRACT_METHODS) {
      expect(byNsid.get(nsid)?.type, nsid).toBe(kind);
    }
    expect(methods.map((m) => m.nsid).sort()).toEqual(CONTRACT_METHODS.map(([nsid]) => nsid).sort());
  });

  it('only describeServer is callable without a token', () => {
    expect(methods.filter((m) => !m.auth).map((m) => m.nsid)).toEqual([
      'io.pocketenv.server.describeServer',
    ]);
  });

  it('every procedure accepts {} or declares what it requires, so clients can send a JSON body', () => {
    // xrpc-server rejects any body sent to a procedure without `input`, and every client sends one.
    for (const doc of loadLexiconDocs()) {
      const main = doc.defs.main;
      if (main?.type !== 'procedure') continue;
      expect(main.input?.encoding, doc.id).toBe('application/json');
    }
  });
});

describe('payloads the hosted clients send', () => {
  const create = 'io.pocketenv.sandbox.createSandbox';

  it('accepts the Gleam SDK create body', () => {
    const body = {
      name: 'my-box',
      base: 'debian',
      provider: 'local',
      repo: 'https://example.com/o/r',
      description: 'demo',
    };
    expect(lexicons.assertValidXrpcInput(create, body)).toEqual(body);
  });

  it('accepts the JS SDK create body with envs, secrets, keepAlive and provider credentials', () => {
    const body = {
      base: 'debian',
      name: 'builder-box',
      vcpus: 2,
      memory: 4,
      disk: 10,
      topics: ['demo'],
      envs: [{ name: 'NODE_ENV', value: 'production' }],
      secrets: [{ name: 'API_KEY', value: 'c2VhbGVk' }],
      keepAlive: true,
      spriteToken: 'c2VhbGVk',
      redactedSpriteToken: 'sk-abc*****xyz',
    };
    expect(lexicons.assertValidXrpcInput(create, body)).toEqual(body);
  });

  it('rejects disk 2 with a message naming the field', () => {
    const message = rejection(() => lexicons.assertValidXrpcInput(create, { base: 'debian', disk: 2 }));
    expect(message).toMatch(/disk/);
  });

  it('rejects a create body without base, naming the field', () => {
    expect(rejection(() => lexicons.assertValidXrpcInput(create, { name: 'x' }))).toMatch(/base/);
  });

  it('applies list defaults: 30 for sandboxes; no maximum (the server serves 100 at most), but at least 1', () => {
    expect(lexicons.assertValidXrpcParams('io.pocketenv.sandbox.getSandboxes', {})).toEqual({
      limit: 30,
      offset: 0,
    });
    expect(lexicons.assertValidXrpcParams('io.pocketenv.sandbox.getSandboxes', { limit: 1000 })).toEqual({ limit: 1000, offset: 0 });
    expect(
      rejection(() => lexicons.assertValidXrpcParams('io.pocketenv.sandbox.getSandboxes', { limit: 0 })),
    ).toMatch(/limit/);
  });

  it('no list limit has a maximum: the hosted lexicons have none and official clients send more than 100', () => {
    for (const doc of loadLexiconDocs()) {
      const limit = (doc.defs.main as { parameters?: { properties?: Record<string, { maximum?: number }> } } | undefined)?.parameters?.properties?.limit;
      if (limit) expect(limit.maximum, doc.id).toBeUndefined();
    }
  });

  it('exec accepts {command} and the optional additions', () => {
    const exec = 'io.pocketenv.sandbox.exec';
    expect(lexicons.assertValidXrpcInput(exec, { command: 'uname -a' })).toEqual({ command: 'uname -a' });
    const full = { command: 'env', timeoutMs: 5000, cwd: '/tmp', env: [{ name: 'A', value: '1' }] };
    expect(lexicons.assertValidXrpcInput(exec, full)).toEqual(full);
    expect(rejection(() => lexicons.assertValidXrpcInput(exec, {}))).toMatch(/command/);
  });

  it('putPreferences accepts sandboxDetailsPref and other hosted pref types, but not items without $type', () => {
    const put = 'io.pocketenv.sandbox.putPreferences';
    const body = {
      sandboxId: 'sbx_1',
      preferences: [
        { $type: 'io.pocketenv.sandbox.defs#sandboxDetailsPref', description: 'x', topics: ['a'] },
        { $type: 'io.pocketenv.sandbox.defs#sandboxProviderPref', name: 'cloudflare' },
      ],
    };
    expect(lexicons.assertValidXrpcInput(put, body)).toEqual(body);
    expect(
      rejection(() => lexicons.assertValidXrpcInput(put, { sandboxId: 'sbx_1', preferences: [{ name: 'x' }] })),
    ).toMatch(/\$type/);
    const longTopic = {
      sandboxId: 'sbx_1',
      preferences: [{ $type: 'io.pocketenv.sandbox.defs#sandboxDetailsPref', topics: ['t'.repeat(51)] }],
    };
    expect(rejection(() => lexicons.assertValidXrpcInput(put, longTopic))).toMatch(/topics/);
  });

  it('getSandbox answers {sandbox: null} for a missing sandbox, and a full view otherwise', () => {
    const get = 'io.pocketenv.sandbox.getSandbox';
    expect(lexicons.assertValidXrpcOutput(get, { sandbox: null })).toEqual({ sandbox: null });
    const view = {
      id: 'sbx_1',
      name: 'brave-otter-k3f9',
      provider: 'local',
      baseSandbox: 'debian',
      status: 'ERROR',
      error: 'base image missing',
      createdAt: '2026-01-02T03:04:05.000Z',
    };
    expect(lexicons.assertValidXrpcOutput(get, { sandbox: view })).toEqual({ sandbox: view });
  });
});

describe('attachment and network payloads the hosted clients send', () => {
  it('accepts the Gleam and JS variable bodies, and the JS update body', () => {
    const add = { variable: { sandboxId: 'sbx_1', name: 'PORT', value: '3000' } };
    expect(lexicons.assertValidXrpcInput('io.pocketenv.variable.addVariable', add)).toEqual(add);
    const update = { id: 'var_1', variable: { sandboxId: 'sbx_1', name: 'PORT', value: '8080' } };
    expect(lexicons.assertValidXrpcInput('io.pocketenv.variable.updateVariable', update)).toEqual(update);
    expect(lexicons.assertValidXrpcParams('io.pocketenv.variable.getVariables', { sandboxId: 'sbx_1' })).toEqual({
      sandboxId: 'sbx_1',
      limit: 20,
      offset: 0,
    });
  });

  it('accepts addSecret with and without the top-level redacted field', () => {
    const add = { secret: { sandboxId: 'sbx_1', name: 'API_KEY', value: 'c2VhbGVk' } };
    expect(lexicons.assertValidXrpcInput('io.pocketenv.secret.addSecret', add)).toEqual(add);
    const withRedacted = { ...add, redacted: 'sk-********xyz' };
    expect(lexicons.assertValidXrpcInput('io.pocketenv.secret.addSecret', withRedacted)).toEqual(withRedacted);
  });

  it('accepts the Gleam and JS volume bodies, with or without a path (the JS SDK may leave it out)', () => {
    const add = { volume: { sandboxId: 'sbx_1', name: 'data', path: '/data' } };
    expect(lexicons.assertValidXrpcInput('io.pocketenv.volume.addVolume', add)).toEqual(add);
    const noPath = { volume: { sandboxId: 'sbx_1', name: 'data' } };
    expect(lexicons.assertValidXrpcInput('io.pocketenv.volume.addVolume', noPath)).toEqual(noPath);
  });

  it('accepts the services example body; a port below 1025 is left to the server, whose message says what to use', () => {
    const add = { service: { name: 'web', command: 'node server.js', ports: [3000] } };
    expect(lexicons.assertValidXrpcInput('io.pocketenv.service.addService', add)).toEqual(add);
    const low = { service: { name: 'web', command: 'node server.js', ports: [80] } };
    expect(lexicons.assertValidXrpcInput('io.pocketenv.service.addService', low)).toEqual(low);
    const high = { service: { name: 'web', command: 'node server.js', ports: [65536] } };
    expect(rejection(() => lexicons.assertValidXrpcInput('io.pocketenv.service.addService', high))).toMatch(/ports/);
  });

  it("the Go SDK's putSshKeys body (id only in the query) is valid", () => {
    const go = { publicKey: 'ssh-ed25519 AAAA user@pocketenv', privateKey: 'c2VhbGVk', redacted: '-----BEGIN…' };
    expect(lexicons.assertValidXrpcInput('io.pocketenv.sandbox.putSshKeys', go)).toEqual(go);
    expect(lexicons.assertValidXrpcParams('io.pocketenv.sandbox.putSshKeys', { id: 'sbx_1' })).toEqual({ id: 'sbx_1' });
  });

  it('exposePort takes 1025..65535 and names the port when out of range', () => {
    const expose = 'io.pocketenv.sandbox.exposePort';
    expect(lexicons.assertValidXrpcInput(expose, { port: 3000, description: 'web' })).toEqual({
      port: 3000,
      description: 'web',
    });
    expect(rejection(() => lexicons.assertValidXrpcInput(expose, { port: 1024 }))).toMatch(/port/);
    expect(rejection(() => lexicons.assertValidXrpcInput(expose, { port: 65536 }))).toMatch(/port/);
  });

  it('accepts both the JS and the Gleam Tailscale bodies', () => {
    const put = 'io.pocketenv.sandbox.putTailscaleAuthKey';
    const js = { id: 'sbx_1', authKey: 'c2VhbGVk', redacted: 'tskey-auth-****abc' };
    expect(lexicons.assertValidXrpcInput(put, js)).toEqual(js);
    const gleam = { tailscaleAuthKey: 'c2VhbGVk', redacted: 'tskey-auth-****abc' };
    expect(lexicons.assertValidXrpcInput(put, gleam)).toEqual(gleam);
  });

  it('accepts the SSH key, backup and copy bodies', () => {
    const ssh = { id: 'sbx_1', privateKey: 'c2VhbGVk', publicKey: 'ssh-ed25519 AAAA user@pocketenv', redacted: '-----BEGIN…' };
    expect(lexicons.assertValidXrpcInput('io.pocketenv.sandbox.putSshKeys', ssh)).toEqual(ssh);
    const backup = { directory: '/home/user', description: 'before upgrade', ttl: 259200 };
    expect(lexicons.assertValidXrpcInput('io.pocketenv.sandbox.createBackup', backup)).toEqual(backup);
    expect(lexicons.assertValidXrpcInput('io.pocketenv.sandbox.restoreBackup', { backupId: 'bak_1' })).toEqual({
      backupId: 'bak_1',
    });
    const pull = { uuid: 'u-1', sandboxId: 'sbx_1', directoryPath: '/workspace' };
    expect(lexicons.assertValidXrpcInput('io.pocketenv.sandbox.pullDirectory', pull)).toEqual(pull);
    expect(
      rejection(() => lexicons.assertValidXrpcInput('io.pocketenv.sandbox.pullDirectory', { sandboxId: 'sbx_1', directoryPath: '/w' })),
    ).toMatch(/uuid/);
  });

  it('getServiceLogs defaults to the last 200 lines', () => {
    expect(lexicons.assertValidXrpcParams('io.pocketenv.service.getServiceLogs', { serviceId: 'svc_1' })).toEqual({
      serviceId: 'svc_1',
      lines: 200,
    });
  });
});

describe('answers with a record both wrapped and flat', () => {
  const propertiesOf = (nsid: string) => {
    const schema = (lexicons.getDef(nsid) as { output: { schema: { properties: Record<string, unknown>; required: string[] } } }).output.schema;
    return { names: Object.keys(schema.properties).sort(), required: [...schema.required].sort() };
  };
  const viewOf = (ref: string) => {
    const view = lexicons.getDef(ref) as unknown as { properties: Record<string, unknown>; required: string[] };
    return { names: Object.keys(view.properties), required: view.required };
  };

  // The flat copies in these outputs must follow their view when it changes.
  it.each([
    ['io.pocketenv.sandbox.claimSandbox', 'sandbox', 'io.pocketenv.sandbox.defs#sandboxView'],
    ['io.pocketenv.variable.addVariable', 'variable', 'io.pocketenv.variable.defs#variableView'],
    ['io.pocketenv.variable.getVariable', 'variable', 'io.pocketenv.variable.defs#variableView'],
    ['io.pocketenv.variable.updateVariable', 'variable', 'io.pocketenv.variable.defs#variableView'],
    ['io.pocketenv.secret.addSecret', 'secret', 'io.pocketenv.secret.defs#secretView'],
    ['io.pocketenv.secret.getSecret', 'secret', 'io.pocketenv.secret.defs#secretView'],
    ['io.pocketenv.secret.updateSecret', 'secret', 'io.pocketenv.secret.defs#secretView'],
  ])('%s declares every field of its view at the top level and under %s', (nsid, key, ref) => {
    const view = viewOf(ref);
    const output = propertiesOf(nsid);
    expect(output.names).toEqual([key, ...view.names].sort());
    expect(output.required).toEqual([key, ...view.required].sort());
  });

  it("getSshKeys' sshKeys wrapper has the flat fields", () => {
    const def = lexicons.getDef('io.pocketenv.sandbox.getSshKeys#sshKeysView') as unknown as { properties: Record<string, unknown> };
    expect(['sshKeys', ...Object.keys(def.properties)].sort()).toEqual(propertiesOf('io.pocketenv.sandbox.getSshKeys').names);
  });
});
