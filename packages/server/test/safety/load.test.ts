/**
 * Load: many concurrent execs against one sandbox and many concurrent creates against one
 * server, with the default limits. Every answer must be a success; a 429 RateLimitExceeded
 * with Retry-After (beyond a configured limit) is allowed and counted. Latency is a figure only.
 * CI: 100 execs + 10 creates; POCKETENV_SAFETY_FULL=1: 500 + 50 (or POCKETENV_LOAD_EXECS /
 * POCKETENV_LOAD_CREATES).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '@pocketenv/server/testing';
import { Api } from '../helpers';
import { countFrom, figure, percentile } from './support';

const EXECS = countFrom('POCKETENV_LOAD_EXECS', 500, 100);
const CREATES = countFrom('POCKETENV_LOAD_CREATES', 50, 10);

let server: TestServer;
let api: Api;
const lines: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ log: false });
  api = new Api(server.url, server.ownerToken);
});

afterAll(async () => {
  await server?.close();
  figure('load', lines.join('; '));
});

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

function summary(statuses: number[], ms: number[]): string {
  const ok = statuses.filter((s) => s === 200).length;
  const throttled = statuses.filter((s) => s === 429).length;
  return `${ok} ok, ${statuses.length - ok - throttled} errors, ${throttled} throttled (429), p50 ${percentile(ms, 50).toFixed(0)} ms, p99 ${percentile(ms, 99).toFixed(0)} ms`;
}

it(`${EXECS} concurrent execs in one sandbox: no errors, each gets its own output`, async () => {
  const sb = await api.create({});
  const replies = await Promise.all(
    Array.from({ length: EXECS }, (_, i) => timed(() => api.procedure('io.pocketenv.sandbox.exec', { id: sb.id }, { command: `echo n${i}` }))),
  );
  const statuses = replies.map((r) => r.value.status);
  lines.push(`${EXECS} concurrent exec: ${summary(statuses, replies.map((r) => r.ms))}`);
  expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
  const wrong = replies.flatMap((r, i) => (r.value.status === 200 && r.value.body.stdout !== `n${i}\n` ? [`#${i}: ${JSON.stringify(r.value.body)}`] : []));
  expect(wrong).toEqual([]);
}, 600_000);

it(`${CREATES} concurrent creates: all RUNNING (or throttled), all usable, all deleted cleanly`, async () => {
  const replies = await Promise.all(
    Array.from({ length: CREATES }, () => timed(() => api.procedure('io.pocketenv.sandbox.createSandbox', undefined, { base: 'debian' }))),
  );
  const statuses = replies.map((r) => r.value.status);
  lines.push(`${CREATES} concurrent create: ${summary(statuses, replies.map((r) => r.ms))}`);
  expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
  const ids = replies.filter((r) => r.value.status === 200).map((r) => r.value.body.id as string);
  expect(new Set(ids).size).toBe(ids.length);
  const execs = await Promise.all(ids.map((id) => api.procedure('io.pocketenv.sandbox.exec', { id }, { command: 'hostname' })));
  expect(execs.map((e) => e.status).filter((s) => s !== 200)).toEqual([]);
  const deletes = await Promise.all(ids.map((id) => api.procedure('io.pocketenv.sandbox.deleteSandbox', { id }, {})));
  expect(deletes.map((d) => d.status).filter((s) => s !== 200)).toEqual([]);
}, 600_000);
