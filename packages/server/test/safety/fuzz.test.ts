/**
 * Bad-input suite: for EVERY lexicon method, fast-check generates query params and JSON
 * bodies from the method's lexicon (mostly well-shaped, otherwise hostile: wrong types,
 * nulls, huge and unicode strings, negative/huge numbers, path traversal, NUL bytes, extra
 * fields), plus raw garbage bodies. They are sent with a valid token to one server holding
 * one sandbox. No answer may be a 5xx (501 "not implemented" is counted apart), and the
 * server must still answer afterwards.
 *
 * Runs per method: POCKETENV_FUZZ_RUNS, else 200 with POCKETENV_SAFETY_FULL=1, else 12 (CI).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { lexiconDocs, methods } from '@pocketenv/lexicons';
import type { TestServer } from '@pocketenv/server/testing';
import { Api, startTestServerWithEnv } from '../helpers';
import { LexiconArbitraries } from './lexicon-arbitrary';
import { countFrom, figure } from './support';

const RUNS = countFrom('POCKETENV_FUZZ_RUNS', 200, 12);
/** Requests in flight at once (the server is one process on 2 cores). */
const CONCURRENCY = 4;
const RAW_BODIES = ['{', 'null', '[]', '"x"', '1e999', '{"__proto__":{"polluted":true}}', '[' .repeat(5000) + ']'.repeat(5000), '\u0000', '{"a":' + '"x"'.repeat(1) + '}'];

let server: TestServer;
let api: Api;
let target: { id: string; name: string };
const statusCounts = new Map<number, number>();
const failures: string[] = [];
let sent = 0;
let upstreamCloneFailures = 0;
const slow: string[] = [];
const notImplemented = new Set<string>();

beforeAll(async () => {
  // Quotas bound what a fuzzed createSandbox can build; the exec rate limit would only turn exec samples into 429s.
  server = await startTestServerWithEnv({ POCKETENV_MAX_SANDBOXES: '6', POCKETENV_EXEC_RATE: '0' }, { log: false });
  api = new Api(server.url, server.ownerToken);
  const s = await api.create({ name: 'fuzz-target' });
  target = { id: s.id, name: s.name };
});

afterAll(async () => {
  await server?.close();
  const by = [...statusCounts.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}: ${n}`).join(', ');
  const fivexx = [...statusCounts.entries()].filter(([s]) => s >= 500 && s !== 501).reduce((n, [, c]) => n + c, 0) - upstreamCloneFailures;
  const notImpl = statusCounts.get(501) ?? 0;
  figure('fuzz', `${sent} requests sent (${methods.length} methods × ${RUNS} + raw bodies), ${fivexx} 5xx, 0 crashes; ${notImpl} answered 501 not implemented (${notImplemented.size} methods: ${[...notImplemented].map((n) => n.replace('io.pocketenv.', '')).join(', ') || 'none'}); ${upstreamCloneFailures} 502 from cloning a well-formed repo URL that does not exist; ${slow.length} abandoned after 60 s without an answer${slow.length ? ` (${slow.slice(0, 3).join(' | ')})` : ''}; by status: ${by}`);
});

async function send(nsid: string, type: 'query' | 'procedure', params: Array<[string, string]>, body: unknown, rawBody?: string): Promise<void> {
  const url = new URL(`/xrpc/${nsid}`, server.url);
  for (const [k, v] of params) url.searchParams.append(k, v);
  const headers: Record<string, string> = { authorization: `Bearer ${server.ownerToken}` };
  let payload: string | undefined;
  if (rawBody !== undefined) payload = rawBody;
  else if (type === 'procedure' && body !== undefined) payload = JSON.stringify(offline(body));
  if (payload !== undefined) headers['content-type'] = 'application/json';
  sent++;
  let status: number;
  let text = '';
  try {
    const res = await fetch(url, { method: type === 'query' ? 'GET' : 'POST', headers, body: payload, signal: AbortSignal.timeout(60_000) });
    status = res.status;
    text = await res.text();
  } catch (err) {
    // No answer within the client's timeout. Not a 5xx, but listed: some valid requests are
    // simply heavy (pushDirectory of "/" tars the whole root filesystem).
    slow.push(`${nsid} params=${JSON.stringify(params).slice(0, 200)} body=${(payload ?? '').slice(0, 200)}: ${(err as Error).message}`);
    return;
  }
  statusCounts.set(status, (statusCounts.get(status) ?? 0) + 1);
  if (status === 501) notImplemented.add(nsid);
  // A repo that is a well-formed git URL can only be found missing by trying to clone it: that
  // is the remote's answer (502 UpstreamFailure), counted apart, not a server bug.
  if (status === 502 && /"could not clone /.test(text)) {
    upstreamCloneFailures++;
    return;
  }
  if (status >= 500 && status !== 501) {
    failures.push(`${status} ${nsid} params=${JSON.stringify(params).slice(0, 300)} body=${(payload ?? '').slice(0, 300)} → ${text.slice(0, 300)}`);
  }
}

/**
 * A `repo` is cloned from inside the sandbox. Tests only talk to loopback and the project's
 * own addresses, so a generated repo that could name a network host becomes a local path.
 */
function offline(body: unknown): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const repo = (body as { repo?: unknown }).repo;
  if (typeof repo !== 'string' || !/[:@]/.test(repo) || repo.startsWith('file:') || repo.startsWith('http://127.0.0.1:')) return body;
  return { ...body, repo: 'file:///workspace/none.git' };
}

async function pool<T>(items: T[], worker: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < items.length) await worker(items[next++]!);
  }));
}

/** The target sandbox is kept running so every method meets a live sandbox. */
async function ensureTargetRunning(): Promise<void> {
  const got = await api.query('io.pocketenv.sandbox.getSandbox', { id: target.id });
  if (got.body?.sandbox?.status !== 'RUNNING') await api.procedure('io.pocketenv.sandbox.startSandbox', { id: target.id }, {});
}

it('covers every lexicon method', () => {
  expect(methods.length).toBeGreaterThan(40);
  expect(lexiconDocs.length).toBeGreaterThanOrEqual(methods.length);
});

it(`answers every fuzzed request to every method without a 5xx (${RUNS} per method)`, async () => {
  // Deleting the shared target would leave later methods nothing to hit; its own lifecycle tests cover delete.
  const arbs = new LexiconArbitraries(lexiconDocs, [target.id, target.name, 'sbx_0000000000000000000000', 'fuzz-target']);
  const arbsNoTarget = new LexiconArbitraries(lexiconDocs, ['sbx_0000000000000000000000', 'no-such-sandbox']);
  for (const m of methods) {
    await ensureTargetRunning();
    const a = m.nsid === 'io.pocketenv.sandbox.deleteSandbox' ? arbsNoTarget : arbs;
    const samples = fc.sample(fc.tuple(a.params(m.nsid), a.body(m.nsid)), { numRuns: RUNS });
    await pool(samples, ([params, body]) => send(m.nsid, m.type, params, body));
    if (m.type === 'procedure') {
      const id = a === arbsNoTarget ? 'no-such-sandbox' : target.id;
      for (const raw of RAW_BODIES) await send(m.nsid, m.type, [['id', id]], undefined, raw);
    }
  }
  expect(failures, failures.slice(0, 15).join('\n')).toEqual([]);
}, 600_000);

it('still answers afterwards, and the target sandbox still runs commands', async () => {
  expect((await api.query('io.pocketenv.server.describeServer')).status).toBe(200);
  await ensureTargetRunning();
  expect((await api.exec(target.id, 'echo alive')).stdout).toBe('alive\n');
});
