/**
 * Authorization matrix: every XRPC method (from the lexicon list, so a new method without a
 * row here fails the suite) and every non-XRPC route (copy store, terminal — ours and the
 * official CLI's protocols: /pty and /tty with the API token, the Cloudflare worker's, the
 * SSH-style /ssh/connect + /ssh/<session>/ws —, streaming exec, preview proxy, VS Code) ×
 * {owner, another actor, no token, bad token, expired token, revoked token}.
 *
 * Correct means: owner → not 401/403/404 and not 5xx; another actor → 404, or a 200 that
 * contains nothing of the owner's (getSandbox → {sandbox:null}, lists → empty); no, bad,
 * expired or revoked token → 401. describeServer is public. 501 is "not implemented", never counted
 * correct. Then a name both actors use: the other actor calling every method and route that
 * takes a sandbox with that name reaches only their own sandbox. Prints `M cases, K correct, X
 * not implemented`.
 *
 * The fixture sandboxes are the local provider's; authz.docker.test.ts runs the same matrix on
 * `provider: "docker"` sandboxes (POCKETENV_SAFETY_PROVIDER=docker).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import sodium from 'libsodium-wrappers';
import WebSocket from 'ws';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { methods } from '@pocketenv/lexicons';
import { fetchPreview, startTestServer, type TestServer } from '@pocketenv/server/testing';
import { Api, expectOk } from '../helpers';
import { figure } from './support';

/** Which provider the fixture sandboxes run on. */
const PROVIDER = process.env.POCKETENV_SAFETY_PROVIDER === 'docker' ? 'docker' : 'local';

type Caller = 'owner' | 'other' | 'none' | 'bad' | 'expired' | 'revoked';
const CALLERS: Caller[] = ['other', 'none', 'bad', 'expired', 'revoked', 'owner']; // owner last: its call may delete the fixture
type Kind = 'owned' | 'self' | 'public';

interface Fixtures {
  sandbox: { id: string; name: string };
  did: string;
  variableId?: string;
  secretId?: string;
  fileId?: string;
  volumeId?: string;
  volumeName: string;
  serviceId?: string;
  backupId?: string;
  uuid?: string;
  sealed: string;
  /** A sealed (fake) PEM private key, for putSshKeys. */
  sealedKey: string;
}

interface Row {
  kind: Kind;
  request(f: Fixtures): { params?: Record<string, string | number>; body?: unknown };
}

const S = (f: Fixtures) => f.sandbox.id;
const tag = randomBytes(4).toString('hex');
const SECRET_VALUE = `authz-value-${tag}`;

/** One row per lexicon method. Destructive ones are run last (see ORDER). */
const ROWS: Record<string, Row> = {
  'io.pocketenv.actor.getActorSandboxes': { kind: 'owned', request: (f) => ({ params: { did: f.did } }) },
  'io.pocketenv.actor.getProfile': { kind: 'self', request: () => ({}) },
  'io.pocketenv.actor.getTerminalToken': { kind: 'self', request: () => ({}) },
  'io.pocketenv.file.addFile': { kind: 'owned', request: (f) => ({ body: { file: { sandboxId: S(f), path: `/workspace/authz-${tag}.txt`, content: f.sealed } } }) },
  'io.pocketenv.file.getFile': { kind: 'owned', request: (f) => ({ params: { id: f.fileId ?? 'missing' } }) },
  'io.pocketenv.file.getFiles': { kind: 'owned', request: (f) => ({ params: { sandboxId: S(f) } }) },
  'io.pocketenv.file.updateFile': { kind: 'owned', request: (f) => ({ body: { id: f.fileId ?? 'missing', file: { path: `/workspace/authz2-${tag}.txt` } } }) },
  'io.pocketenv.file.deleteFile': { kind: 'owned', request: (f) => ({ params: { id: f.fileId ?? 'missing' }, body: {} }) },
  'io.pocketenv.sandbox.claimSandbox': { kind: 'owned', request: (f) => ({ params: { id: S(f) }, body: {} }) },
  'io.pocketenv.sandbox.createBackup': { kind: 'owned', request: (f) => ({ params: { id: S(f) }, body: { directory: '/workspace' } }) },
  'io.pocketenv.sandbox.createSandbox': { kind: 'self', request: () => ({ body: { base: 'debian' } }) },
  'io.pocketenv.sandbox.deleteSandbox': { kind: 'owned', request: (f) => ({ params: { id: S(f) }, body: {} }) },
  'io.pocketenv.sandbox.exec': { kind: 'owned', request: (f) => ({ params: { id: S(f) }, body: { command: 'echo owned' } }) },
  'io.pocketenv.sandbox.exposePort': { kind: 'owned', request: (f) => ({ params: { id: S(f) }, body: { port: 3000 } }) },
  'io.pocketenv.sandbox.exposeVscode': { kind: 'owned', request: (f) => ({ params: { id: S(f) }, body: {} }) },
  'io.pocketenv.sandbox.getBackups': { kind: 'owned', request: (f) => ({ params: { id: S(f) } }) },
  'io.pocketenv.sandbox.getExposedPorts': { kind: 'owned', request: (f) => ({ params: { id: S(f) } }) },
  'io.pocketenv.sandbox.getPreferences': { kind: 'owned', request: (f) => ({ params: { id: S(f) } }) },
  'io.pocketenv.sandbox.getSandbox': { kind: 'owned', request: (f) => ({ params: { id: S(f) } }) },
  'io.pocketenv.sandbox.getSandboxes': { kind: 'self', request: () => ({}) },
  'io.pocketenv.sandbox.getSshKeys': { kind: 'owned', request: (f) => ({ params: { id: S(f) } }) },
  'io.pocketenv.sandbox.getTailscaleAuthKey': { kind: 'owned', request: (f) => ({ params: { id: S(f) } }) },
  'io.pocketenv.sandbox.pullDirectory': { kind: 'owned', request: (f) => ({ body: { sandboxId: S(f), uuid: f.uuid ?? 'missing', directoryPath: '/workspace/pulled' } }) },
  'io.pocketenv.sandbox.pushDirectory': { kind: 'owned', request: (f) => ({ body: { sandboxId: S(f), directoryPath: '/workspace' } }) },
  'io.pocketenv.sandbox.putPreferences': { kind: 'owned', request: (f) => ({ body: { sandboxId: S(f), preferences: [{ $type: 'io.pocketenv.sandbox.defs#sandboxDetailsPref', description: 'authz' }] } }) },
  'io.pocketenv.sandbox.putSshKeys': { kind: 'owned', request: (f) => ({ body: { id: S(f), privateKey: f.sealedKey, publicKey: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey${tag} authz` } }) },
  'io.pocketenv.sandbox.putTailscaleAuthKey': { kind: 'owned', request: (f) => ({ params: { id: S(f) }, body: { id: S(f), authKey: f.sealed } }) },
  'io.pocketenv.sandbox.restoreBackup': { kind: 'owned', request: (f) => ({ body: { backupId: f.backupId ?? 'missing' } }) },
  'io.pocketenv.sandbox.startSandbox': { kind: 'owned', request: (f) => ({ params: { id: S(f) }, body: {} }) },
  'io.pocketenv.sandbox.stopSandbox': { kind: 'owned', request: (f) => ({ params: { id: S(f) }, body: {} }) },
  'io.pocketenv.sandbox.unexposePort': { kind: 'owned', request: (f) => ({ params: { id: S(f) }, body: { port: 3000 } }) },
  'io.pocketenv.secret.addSecret': { kind: 'owned', request: (f) => ({ body: { secret: { sandboxId: S(f), name: `AUTHZ_SECRET2_${tag}`, value: f.sealed } } }) },
  'io.pocketenv.secret.getSecret': { kind: 'owned', request: (f) => ({ params: { id: f.secretId ?? 'missing' } }) },
  'io.pocketenv.secret.getSecrets': { kind: 'owned', request: (f) => ({ params: { sandboxId: S(f) } }) },
  'io.pocketenv.secret.updateSecret': { kind: 'owned', request: (f) => ({ body: { id: f.secretId ?? 'missing', secret: { value: f.sealed } } }) },
  'io.pocketenv.secret.deleteSecret': { kind: 'owned', request: (f) => ({ params: { id: f.secretId ?? 'missing' }, body: {} }) },
  'io.pocketenv.server.describeServer': { kind: 'public', request: () => ({}) },
  'io.pocketenv.service.addService': { kind: 'owned', request: (f) => ({ params: { sandboxId: S(f) }, body: { service: { name: `authz2-${tag}`, command: 'sleep 600' } } }) },
  'io.pocketenv.service.getServiceLogs': { kind: 'owned', request: (f) => ({ params: { serviceId: f.serviceId ?? 'missing' } }) },
  'io.pocketenv.service.getServices': { kind: 'owned', request: (f) => ({ params: { sandboxId: S(f) } }) },
  'io.pocketenv.service.restartService': { kind: 'owned', request: (f) => ({ params: { serviceId: f.serviceId ?? 'missing' }, body: {} }) },
  'io.pocketenv.service.startService': { kind: 'owned', request: (f) => ({ params: { serviceId: f.serviceId ?? 'missing' }, body: {} }) },
  'io.pocketenv.service.stopService': { kind: 'owned', request: (f) => ({ params: { serviceId: f.serviceId ?? 'missing' }, body: {} }) },
  'io.pocketenv.service.updateService': { kind: 'owned', request: (f) => ({ params: { serviceId: f.serviceId ?? 'missing' }, body: { service: { description: 'authz' } } }) },
  'io.pocketenv.service.deleteService': { kind: 'owned', request: (f) => ({ params: { serviceId: f.serviceId ?? 'missing' }, body: {} }) },
  'io.pocketenv.variable.addVariable': { kind: 'owned', request: (f) => ({ body: { variable: { sandboxId: S(f), name: `AUTHZ_VAR2_${tag}`, value: 'x' } } }) },
  'io.pocketenv.variable.getVariable': { kind: 'owned', request: (f) => ({ params: { id: f.variableId ?? 'missing' } }) },
  'io.pocketenv.variable.getVariables': { kind: 'owned', request: (f) => ({ params: { sandboxId: S(f) } }) },
  'io.pocketenv.variable.updateVariable': { kind: 'owned', request: (f) => ({ body: { id: f.variableId ?? 'missing', variable: { value: SECRET_VALUE } } }) },
  'io.pocketenv.variable.deleteVariable': { kind: 'owned', request: (f) => ({ params: { id: f.variableId ?? 'missing' }, body: {} }) },
  'io.pocketenv.volume.addVolume': { kind: 'owned', request: (f) => ({ body: { volume: { sandboxId: S(f), name: `authz-vol2-${tag}`, path: '/data2' } } }) },
  'io.pocketenv.volume.getVolume': { kind: 'owned', request: (f) => ({ params: { id: f.volumeId ?? 'missing' } }) },
  'io.pocketenv.volume.getVolumes': { kind: 'owned', request: (f) => ({ params: { sandboxId: S(f) } }) },
  'io.pocketenv.volume.getVolumeData': { kind: 'self', request: () => ({}) },
  'io.pocketenv.volume.updateVolume': { kind: 'owned', request: (f) => ({ body: { id: f.volumeId ?? 'missing', volume: { readOnly: false } } }) },
  'io.pocketenv.volume.deleteVolume': { kind: 'owned', request: (f) => ({ params: { id: f.volumeId ?? 'missing' }, body: {} }) },
  'io.pocketenv.volume.deleteVolumeData': { kind: 'owned', request: (f) => ({ params: { name: f.volumeName }, body: {} }) },
};

/** Methods whose owner call removes or stops a fixture run after all others, in this order. */
const LAST = [
  'io.pocketenv.service.stopService',
  'io.pocketenv.service.deleteService',
  'io.pocketenv.variable.deleteVariable',
  'io.pocketenv.secret.deleteSecret',
  'io.pocketenv.file.deleteFile',
  'io.pocketenv.volume.deleteVolume',
  'io.pocketenv.volume.deleteVolumeData',
  'io.pocketenv.sandbox.unexposePort',
  'io.pocketenv.sandbox.stopSandbox',
  'io.pocketenv.sandbox.deleteSandbox',
];

let server: TestServer;
const tokens = {} as Record<Caller, string | undefined>;
let fx: Fixtures;
const cases: Array<{ where: string; caller: Caller; verdict: 'correct' | 'wrong' | 'not implemented'; detail: string }> = [];

function api(caller: Caller): Api {
  return new Api(server.url, tokens[caller]);
}

beforeAll(async () => {
  server = await startTestServer({ log: false });
  const other = await server.createActor(`authz-other-${tag}`);
  const revoked = await server.createActor(`authz-revoked-${tag}`);
  await server.revokeToken(revoked.token);
  // A token that was valid for a moment: by the time it is used it has expired.
  const expired = await server.createActor(`authz-expired-${tag}`, { ttlMs: 1 });
  await new Promise((r) => setTimeout(r, 20));
  Object.assign(tokens, { owner: server.ownerToken, other: other.token, none: undefined, bad: `bad-${randomBytes(16).toString('hex')}`, expired: expired.token, revoked: revoked.token });

  const owner = api('owner');
  const describe = expectOk(await owner.query('io.pocketenv.server.describeServer'));
  await sodium.ready;
  const sealed = Buffer.from(sodium.crypto_box_seal(SECRET_VALUE, sodium.from_hex(describe.publicKey))).toString('base64url');
  const profile = expectOk(await owner.query('io.pocketenv.actor.getProfile'));
  const sandbox = await owner.create({ name: `authz-${tag}`, provider: PROVIDER });
  const pem = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAauthz\n-----END OPENSSH PRIVATE KEY-----\n';
  const sealedKey = Buffer.from(sodium.crypto_box_seal(pem, sodium.from_hex(describe.publicKey))).toString('base64url');
  fx = { sandbox: { id: sandbox.id, name: sandbox.name }, did: profile.did, volumeName: `authz-vol-${tag}`, sealed, sealedKey };
  await owner.exec(sandbox.id, 'mkdir -p /workspace && echo data > /workspace/authz-data.txt');
  // Attachments (each may be missing if its feature is not on this server: its rows then show it).
  const id = (r: { status: number; body: any }, ...path: string[]) => (r.status === 200 ? path.reduce((o, k) => o?.[k], r.body) : undefined);
  fx.variableId = id(await owner.procedure('io.pocketenv.variable.addVariable', undefined, { variable: { sandboxId: fx.sandbox.id, name: `AUTHZ_VAR_${tag}`, value: SECRET_VALUE } }), 'variable', 'id');
  fx.secretId = id(await owner.procedure('io.pocketenv.secret.addSecret', undefined, { secret: { sandboxId: fx.sandbox.id, name: `AUTHZ_SECRET_${tag}`, value: sealed } }), 'secret', 'id');
  fx.fileId = id(await owner.procedure('io.pocketenv.file.addFile', undefined, { file: { sandboxId: fx.sandbox.id, path: `/workspace/authz-file-${tag}`, content: sealed } }), 'file', 'id');
  fx.volumeId = id(await owner.procedure('io.pocketenv.volume.addVolume', undefined, { volume: { sandboxId: fx.sandbox.id, name: fx.volumeName, path: '/data' } }), 'volume', 'id');
  fx.serviceId = id(await owner.procedure('io.pocketenv.service.addService', { sandboxId: fx.sandbox.id }, { service: { name: `authz-svc-${tag}`, command: 'sleep 600' } }), 'service', 'id');
  fx.backupId = id(await owner.procedure('io.pocketenv.sandbox.createBackup', { id: fx.sandbox.id }, { directory: '/workspace' }), 'id');
  fx.uuid = id(await owner.procedure('io.pocketenv.sandbox.pushDirectory', undefined, { sandboxId: fx.sandbox.id, directoryPath: '/workspace' }), 'uuid');
  await owner.procedure('io.pocketenv.sandbox.exposePort', { id: fx.sandbox.id }, { port: 3000 });
  await owner.procedure('io.pocketenv.sandbox.putSshKeys', undefined, { id: fx.sandbox.id, privateKey: sealedKey, publicKey: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFix${tag} authz` });
  await owner.procedure('io.pocketenv.sandbox.putTailscaleAuthKey', { id: fx.sandbox.id }, { id: fx.sandbox.id, authKey: sealed });
}, 300_000);

afterAll(async () => {
  await server?.close();
  const correct = cases.filter((c) => c.verdict === 'correct').length;
  const notImpl = cases.filter((c) => c.verdict === 'not implemented');
  const wrong = cases.filter((c) => c.verdict === 'wrong');
  const ni = [...new Set(notImpl.map((c) => c.where.replace('io.pocketenv.', '')))];
  figure('authz', `${cases.length} cases, ${correct} correct, ${notImpl.length} not implemented${ni.length ? ` (${ni.join(', ')})` : ''}, ${wrong.length} wrong`);
});

/** Everything of the owner's that another actor must never see. */
function ownerSecrets(): string[] {
  return [fx.sandbox.id, fx.sandbox.name, fx.variableId, fx.secretId, fx.fileId, fx.volumeId, fx.serviceId, fx.backupId, SECRET_VALUE].filter((x): x is string => !!x);
}

function judge(nsid: string, kind: Kind, caller: Caller, status: number, body: unknown): { verdict: 'correct' | 'wrong' | 'not implemented'; detail: string } {
  const text = JSON.stringify(body) ?? '';
  const detail = `${status} ${text.slice(0, 200)}`;
  if (status === 501) return { verdict: 'not implemented', detail };
  const ok = (() => {
    if (kind === 'public') return status === 200;
    if (caller === 'none' || caller === 'bad' || caller === 'expired' || caller === 'revoked') return status === 401;
    if (caller === 'owner') return status < 500 && ![401, 403, 404].includes(status);
    // Another actor.
    if (status === 404) return kind === 'owned';
    if (status === 200) return !ownerSecrets().some((s) => text.includes(s));
    return kind === 'self' && status < 500 && status !== 401;
  })();
  return { verdict: ok ? 'correct' : 'wrong', detail };
}

function ordered(): string[] {
  const all = methods.map((m) => m.nsid);
  return [...all.filter((n) => !LAST.includes(n)), ...LAST.filter((n) => all.includes(n))];
}

it('has a row for every lexicon method (a new method cannot be forgotten)', () => {
  const missing = methods.map((m) => m.nsid).filter((n) => !ROWS[n]);
  expect(missing).toEqual([]);
});

it('every XRPC method × {owner, other actor, no token, bad token, expired token, revoked token}', async () => {
  const types = new Map(methods.map((m) => [m.nsid, m.type]));
  for (const nsid of ordered()) {
    const row = ROWS[nsid]!;
    if (nsid === 'io.pocketenv.sandbox.deleteSandbox' || nsid === 'io.pocketenv.sandbox.stopSandbox') {
      // Stopped by now? start it again so the owner's call meets a live sandbox.
      await api('owner').procedure('io.pocketenv.sandbox.startSandbox', { id: fx.sandbox.id }, {});
    }
    for (const caller of CALLERS) {
      const { params, body } = row.request(fx);
      const r = types.get(nsid) === 'query' ? await api(caller).query(nsid, params) : await api(caller).procedure(nsid, params, body ?? {});
      cases.push({ where: nsid, caller, ...judge(nsid, row.kind, caller, r.status, r.body) });
    }
  }
  const wrong = cases.filter((c) => c.verdict === 'wrong');
  expect(wrong.map((c) => `${c.where} as ${c.caller}: ${c.detail}`)).toEqual([]);
}, 300_000);

// --- non-XRPC routes ------------------------------------------------------------------------

async function cpUpload(caller: Caller): Promise<{ status: number; body: unknown }> {
  const form = new FormData();
  form.append('file', new Blob([gzipSync(Buffer.from('authz'))], { type: 'application/gzip' }), 'archive.tar.gz');
  const headers: Record<string, string> = tokens[caller] ? { authorization: `Bearer ${tokens[caller]}` } : {};
  const res = await fetch(new URL('/cp', server.url), { method: 'POST', headers, body: form });
  return { status: res.status, body: await res.text() };
}

async function cpDownload(caller: Caller, uuid: string): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = tokens[caller] ? { authorization: `Bearer ${tokens[caller]}` } : {};
  const res = await fetch(new URL(`/cp/${uuid}`, server.url), { headers });
  return { status: res.status, body: res.status === 200 ? '<archive>' : await res.text() };
}

/**
 * How a socket's client puts its credentials in the URL: a one-use terminal token (ours, and
 * the official CLI's Cloudflare protocol) or its API token itself (the CLI's other protocols).
 */
interface UrlCredential {
  param: string;
  kind: 'terminal' | 'api';
}
const TERMINAL_TOKEN: UrlCredential = { param: 'token', kind: 'terminal' };

/**
 * Opens a sandbox WebSocket route (terminal, streaming exec) authorized as `credential` says
 * (a revoked or expired token, which gets no terminal token, goes in a bearer header or, for
 * API-token routes, in the URL); resolves with the close code, or 'open' if it is still open after a while.
 */
async function sandboxSocket(caller: Caller, path: string, credential = TERMINAL_TOKEN): Promise<number | 'open' | 'refused-upgrade'> {
  const inUrl = (token: string) => `${path.includes('?') ? '&' : '?'}${credential.param}=${encodeURIComponent(token)}`;
  let query = '';
  let headers: Record<string, string> = {};
  if (caller === 'owner' || caller === 'other') {
    query = inUrl(credential.kind === 'api' ? tokens[caller]! : (await api(caller).query('io.pocketenv.actor.getTerminalToken')).body.token);
  } else if (caller === 'bad') query = inUrl(tokens.bad!);
  else if (caller === 'revoked' || caller === 'expired') {
    if (credential.kind === 'api') query = inUrl(tokens[caller]!);
    else headers = { authorization: `Bearer ${tokens[caller]}` };
  }
  const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}${path}${query}`, { headers });
  return new Promise((resolve) => {
    const timer = setTimeout(() => (ws.terminate(), resolve('open')), 3000);
    ws.on('close', (code) => (clearTimeout(timer), resolve(code)));
    ws.on('unexpected-response', () => (clearTimeout(timer), ws.terminate(), resolve('refused-upgrade')));
    ws.on('error', () => undefined);
  });
}

/** `POST /ssh/connect` (the official CLI's SSH-style terminal) for `sandboxId` as `caller`. */
async function sshConnect(caller: Caller, sandboxId: string): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-sandbox-id': sandboxId };
  if (tokens[caller]) headers.authorization = `Bearer ${tokens[caller]}`;
  const res = await fetch(new URL('/ssh/connect', server.url), { method: 'POST', headers, body: JSON.stringify({ cols: 80, rows: 24 }) });
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

it('non-XRPC routes: copy store, terminal protocols, streaming exec, preview proxy, VS Code × the same callers', async () => {
  // The sandbox was deleted by the matrix's last row: these get a sandbox and an archive of their own.
  const owner = api('owner');
  const sandbox = await owner.create({ name: `authz-routes-${tag}`, provider: PROVIDER });
  fx.sandbox = { id: sandbox.id, name: sandbox.name };
  const up = await cpUpload('owner');
  const uuid = up.status === 200 ? (JSON.parse(String(up.body)) as { uuid: string }).uuid : 'missing';
  for (const caller of CALLERS) {
    const r = await cpUpload(caller);
    cases.push({ where: 'POST /cp', caller, ...judge('POST /cp', 'self', caller, r.status, r.body) });
    const d = await cpDownload(caller, uuid);
    cases.push({ where: 'GET /cp/<uuid>', caller, ...judge('GET /cp/<uuid>', 'owned', caller, d.status, d.body) });
    const expected = caller === 'owner' ? 'open' : caller === 'other' ? 4404 : 4401;
    const judgeSocket = (where: string, t: number | 'open' | 'refused-upgrade') =>
      cases.push({ where, caller, verdict: t === expected ? 'correct' : t === 'refused-upgrade' ? 'not implemented' : 'wrong', detail: `close ${t}` });
    for (const route of ['pty', 'exec']) judgeSocket(`WS /${route}/<id>/ws`, await sandboxSocket(caller, `/${route}/${sandbox.id}/ws`));
    // The official CLI's terminal protocols.
    for (const route of ['pty', 'tty']) {
      judgeSocket(`WS /${route}/<id>/ws?token=<API token>`, await sandboxSocket(caller, `/${route}/${sandbox.id}/ws`, { param: 'token', kind: 'api' }));
    }
    judgeSocket(
      'WS /v1/sandboxes/<id>/ws/terminal?t=',
      await sandboxSocket(caller, `/v1/sandboxes/${sandbox.id}/ws/terminal?session=${randomUUID()}`, { param: 't', kind: 'terminal' }),
    );
    // An SSH session is the owner's: anyone else's token is refused with it (as not found).
    const session = expectOk(await sshConnect('owner', sandbox.id)).sessionId as string;
    judgeSocket('WS /ssh/<session>/ws?token=<API token>', await sandboxSocket(caller, `/ssh/${session}/ws`, { param: 'token', kind: 'api' }));
    const connected = await sshConnect(caller, sandbox.id);
    cases.push({ where: 'POST /ssh/connect', caller, ...judge('POST /ssh/connect', 'owned', caller, connected.status, connected.body) });
    const unused = expectOk(await sshConnect('owner', sandbox.id)).sessionId as string;
    const disconnect = await fetch(new URL(`/ssh/disconnect/${unused}`, server.url), {
      method: 'DELETE',
      headers: tokens[caller] ? { authorization: `Bearer ${tokens[caller]}` } : {},
    });
    const disconnected = { status: disconnect.status, body: await disconnect.json().catch(() => undefined) };
    cases.push({ where: 'DELETE /ssh/disconnect/<session>', caller, ...judge('DELETE /ssh/disconnect', 'owned', caller, disconnected.status, disconnected.body) });
  }
  // Preview URLs are capability URLs (whoever has the URL reaches the port, as on the hosted
  // service): the right URL works, a guessed one does not, with or without any token. They
  // live on hosts of their own (`3000-<token>.localhost`); the API's origin serves none of them.
  await owner.exec(sandbox.id, `setsid -f python3 -m http.server 3000 --directory /workspace >/dev/null 2>&1 </dev/null; sleep 1`);
  const exposed = await owner.procedure('io.pocketenv.sandbox.exposePort', { id: sandbox.id }, { port: 3000 });
  const previewUrl: string | undefined = exposed.body?.previewUrl;
  for (const caller of CALLERS) {
    const headers: Record<string, string> = tokens[caller] ? { authorization: `Bearer ${tokens[caller]}` } : {};
    if (!previewUrl) {
      cases.push({ where: 'preview proxy', caller, verdict: exposed.status === 501 ? 'not implemented' : 'wrong', detail: `exposePort ${exposed.status}` });
      continue;
    }
    const guessed = previewUrl.replace(/(3000-)([A-Za-z0-9]+)/, (_m, p: string, t: string) => p + t.split('').reverse().join(''));
    const bad = await fetchPreview(guessed, { headers }).then((r) => r.status, () => 0);
    cases.push({ where: 'preview proxy (guessed URL)', caller, verdict: bad === 404 ? 'correct' : 'wrong', detail: `${bad} ${guessed}` });
    const label = new URL(previewUrl).hostname.split('.')[0];
    const onApi = await fetchPreview(new URL(`/preview/${label}/`, server.url), { headers }).then((r) => r.status, () => 0);
    cases.push({ where: 'preview proxy (its label under /preview/ on the API)', caller, verdict: onApi === 404 ? 'correct' : 'wrong', detail: `${onApi}` });
  }
  const good = await fetchPreview(previewUrl!).then((r) => r.status, () => 0);
  cases.push({ where: 'preview proxy (its URL)', caller: 'none', verdict: good === 200 ? 'correct' : 'wrong', detail: `${good}` });
  // VS Code's preview is not a capability URL: only a browser signed in with the owner's ticket
  // gets through; no bearer token (anyone's) is enough on its own.
  const ide = await owner.procedure('io.pocketenv.sandbox.exposeVscode', { id: sandbox.id }, {});
  if (ide.status !== 200) {
    cases.push({ where: 'VS Code preview', caller: 'owner', verdict: ide.status === 501 ? 'not implemented' : 'wrong', detail: `exposeVscode ${ide.status}` });
  } else {
    const withTicket = new URL(ide.body.previewUrl as string);
    const bare = new URL(withTicket);
    bare.search = '';
    for (const caller of CALLERS) {
      const headers: Record<string, string> = tokens[caller] ? { authorization: `Bearer ${tokens[caller]}` } : {};
      const r = await fetchPreview(bare, { headers }).then((res) => res.status, () => 0);
      cases.push({ where: 'VS Code preview (no ticket or cookie)', caller, verdict: r === 401 ? 'correct' : 'wrong', detail: `${r}` });
    }
    const signIn = await fetchPreview(withTicket);
    const signedIn = signIn.status === 303 && signIn.headers.getSetCookie().some((c) => c.startsWith('pocketenv_ide='));
    cases.push({ where: 'VS Code preview (owner ticket)', caller: 'owner', verdict: signedIn ? 'correct' : 'wrong', detail: `${signIn.status}` });
  }
  const wrong = cases.filter((c) => c.verdict === 'wrong' && !c.where.startsWith('io.'));
  expect(wrong.map((c) => `${c.where} as ${c.caller}: ${c.detail}`)).toEqual([]);
}, 120_000);

// --- the same name, two actors ----------------------------------------------------------------

/** Runs `command` over a sandbox WebSocket route as `caller` and returns what came back (both routes end when it exits). */
async function overSocket(caller: Caller, route: 'pty' | 'exec', idOrName: string, command: string): Promise<string> {
  const t = await api(caller).query('io.pocketenv.actor.getTerminalToken');
  const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/${route}/${encodeURIComponent(idOrName)}/ws?token=${encodeURIComponent(t.body.token)}`);
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (ws.terminate(), reject(new Error(`${route} as ${caller}: no exit; got ${Buffer.concat(chunks).toString()}`))), 30_000);
    ws.on('open', () => ws.send(route === 'exec' ? JSON.stringify({ type: 'start', command }) : `${command}; exit\n`));
    ws.on('message', (data, isBinary) => {
      // Streaming exec prefixes each binary frame with its stream id; the terminal sends raw bytes.
      if (isBinary) chunks.push(route === 'exec' ? (data as Buffer).subarray(1) : (data as Buffer));
    });
    ws.on('close', (code, reason) => (clearTimeout(timer), resolve(`${Buffer.concat(chunks).toString()}\n[close ${code} ${reason.toString()}]`)));
    ws.on('error', () => undefined);
  });
}

it('a name two actors both use reaches only the caller’s own sandbox, in every method and route that takes one', async () => {
  const twin = `twin-${tag}`;
  const owner = api('owner');
  const other = api('other');
  const [mine, theirs] = [await owner.create({ name: twin }), await other.create({ name: twin })];
  expect(theirs.id).not.toBe(mine.id);
  await owner.exec(mine.id, `echo OWNER-${tag} > /workspace/who`);
  await other.exec(theirs.id, `echo OTHER-${tag} > /workspace/who`);

  // By name, each reaches their own: XRPC, streaming exec and the terminal.
  expect((await other.get(twin)).id).toBe(theirs.id);
  expect((await other.exec(twin, 'cat /workspace/who')).stdout).toBe(`OTHER-${tag}\n`);
  for (const route of ['exec', 'pty'] as const) {
    const seen = await overSocket('other', route, twin, 'cat /workspace/who');
    const own = seen.includes(`OTHER-${tag}`) && !seen.includes(`OWNER-${tag}`);
    cases.push({ where: `WS /${route}/<shared name>/ws`, caller: 'other', verdict: own ? 'correct' : 'wrong', detail: seen.slice(-200) });
    expect(await overSocket('owner', route, twin, 'cat /workspace/who'), route).toContain(`OWNER-${tag}`);
  }

  // Every method that takes a sandbox, called by the other actor with the shared name
  // (deleteSandbox last): never "not found", never the owner's sandbox or anything of it.
  const SENTINEL = `sentinel-${tag}`;
  const takesSandbox = (nsid: string) => JSON.stringify(ROWS[nsid]!.request({ ...fx, sandbox: { id: SENTINEL, name: SENTINEL } })).includes(SENTINEL);
  const types = new Map(methods.map((m) => [m.nsid, m.type]));
  const byName: Fixtures = { ...fx, sandbox: { id: twin, name: twin } };
  const wrong: string[] = [];
  const checked: string[] = [];
  for (const nsid of ordered().filter(takesSandbox)) {
    if (nsid.endsWith('.stopSandbox') || nsid.endsWith('.deleteSandbox')) await other.procedure('io.pocketenv.sandbox.startSandbox', { id: twin }, {});
    const { params, body } = ROWS[nsid]!.request(byName);
    const r = types.get(nsid) === 'query' ? await other.query(nsid, params) : await other.procedure(nsid, params, body ?? {});
    const text = JSON.stringify(r.body) ?? '';
    checked.push(nsid);
    const bad = r.status >= 500 || r.body?.error === 'SandboxNotFound' || text.includes(mine.id) || text.includes(`OWNER-${tag}`);
    cases.push({ where: `${nsid} (shared name)`, caller: 'other', verdict: r.status === 501 ? 'not implemented' : bad ? 'wrong' : 'correct', detail: `${r.status} ${text.slice(0, 200)}` });
    if (bad) wrong.push(`${nsid}: ${r.status} ${text.slice(0, 200)}`);
  }
  expect(wrong).toEqual([]);
  expect(cases.filter((c) => c.where.startsWith('WS /') && c.where.includes('shared name') && c.verdict !== 'correct')).toEqual([]);
  expect(checked).toEqual(expect.arrayContaining(['io.pocketenv.sandbox.exec', 'io.pocketenv.sandbox.pushDirectory', 'io.pocketenv.sandbox.createBackup', 'io.pocketenv.sandbox.deleteSandbox']));

  // The other actor's twin is gone; the owner's is untouched and still answers to the name.
  expect(await other.get(twin)).toBeNull();
  expect(await other.get(mine.id)).toBeNull();
  const still = await owner.get(twin);
  expect(still).toMatchObject({ id: mine.id, status: 'RUNNING' });
  expect((await owner.exec(twin, 'cat /workspace/who')).stdout).toBe(`OWNER-${tag}\n`);
}, 300_000);
