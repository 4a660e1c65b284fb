/**
 * `Page<T>`, the one shape of every list of the object API: items, total, hasNext, next(),
 * `for await` over every page, the official SDK's name for the items, and array-like reads.
 * Two sandboxes.
 */
import { startTestServer, type TestServer } from '@pocketenv/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Page, RequestBuildError, Sandbox } from '../src/index';

let server: TestServer;
let first: Sandbox;
let second: Sandbox;

beforeAll(async () => {
  server = await startTestServer();
  const alice = await server.createActor('alice');
  Sandbox.configure({ token: alice.token, baseUrl: server.url });
  first = await Sandbox.create({ base: 'debian', name: 'page-one' });
  second = await Sandbox.create({ base: 'debian', name: 'page-two' });
  for (const n of [1, 2, 3, 4, 5]) await first.env.put(`VAR_${n}`, String(n));
});

afterAll(async () => {
  await server?.close();
});

describe('Page<T>', () => {
  it('reads one page at a time with the total, and says when there is another', async () => {
    const one = await first.env.list({ limit: 2 });
    expect(one).toBeInstanceOf(Page);
    expect(one.items).toHaveLength(2);
    expect(one.total).toBe(5);
    expect(one.hasNext).toBe(true);
    expect(one.variables).toBe(one.items); // the official SDK's name for them

    const two = await one.next();
    const three = await two.next();
    expect([two.offset, three.offset]).toEqual([2, 4]);
    expect(three.items).toHaveLength(1);
    expect(three.hasNext).toBe(false);
    await expect(three.next()).rejects.toBeInstanceOf(RequestBuildError);

    const names = [...one.items, ...two.items, ...three.items].map((v) => v.name);
    expect(new Set(names)).toEqual(new Set(['VAR_1', 'VAR_2', 'VAR_3', 'VAR_4', 'VAR_5']));
  });

  it('walks every item of this page and the ones after it with for await', async () => {
    const seen: string[] = [];
    for await (const variable of await first.env.list({ limit: 2 })) seen.push(variable.name);
    expect(seen.sort()).toEqual(['VAR_1', 'VAR_2', 'VAR_3', 'VAR_4', 'VAR_5']);

    const fromThird: string[] = [];
    for await (const variable of await first.env.list({ limit: 2, offset: 2 })) fromThird.push(variable.name);
    expect(fromThird).toHaveLength(3);
  });

  it('reads like an array of its own items', async () => {
    const page = await first.env.list({ limit: 3 });
    expect(page.length).toBe(3);
    expect(page.map((v) => v.name)).toEqual(page.items.map((v) => v.name));
    expect([...page]).toEqual(page.items);
    expect(page.find((v) => v.name === page.items[1]!.name)).toBe(page.items[1]);
    expect(page.at(-1)).toBe(page.items[2]);
  });

  it('pages Sandbox.list (under `sandboxes`), filters by isRunning, and applies to ports', async () => {
    const page = await Sandbox.list({ limit: 1 });
    expect(page.total).toBe(2);
    expect(page.sandboxes.map((s) => s.name)).toEqual(['page-two']); // newest first
    const all: string[] = [];
    for await (const s of page) all.push(s.name);
    expect(all).toEqual(['page-two', 'page-one']);

    await second.stop();
    expect((await Sandbox.list({ isRunning: true })).sandboxes.map((s) => s.name)).toEqual(['page-one']);
    expect((await Sandbox.list({ isRunning: false })).sandboxes.map((s) => s.name)).toEqual(['page-two']);

    for (const port of [3001, 3002, 3003]) await first.expose(port);
    const ports = await first.ports.list({ limit: 2 });
    expect(ports.map((p) => p.port)).toEqual([3001, 3002]);
    expect(ports.hasNext).toBe(true);
    const every: number[] = [];
    for await (const p of ports) every.push(p.port);
    expect(every).toEqual([3001, 3002, 3003]);
  });
});
