/**
 * The copy store (POST /cp, GET /cp/<uuid>) and pushDirectory / pullDirectory, through a
 * real server and a real sandbox: authorization, the multipart shapes clients send, the size
 * limit, byte-identical round trips, and a corpus of hostile archives that must all be refused
 * without anything being written outside the target — in the sandbox or on this host.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { TestServer } from '@pocketenv/server/testing';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHostileCorpus, gzipOf, type HostileArchive } from '../../sdk/test/support/archive-corpus';
import { differentialCorpus, judge } from '../../sdk/test/support/differential-corpus';
import { gzipSync } from 'node:zlib';
import { Api, expectOk, startTestServerWithEnv } from './helpers';

const LIMITS = { POCKETENV_COPY_MAX_BYTES: '8MiB', POCKETENV_COPY_MAX_UNPACKED_BYTES: '64MiB', POCKETENV_COPY_MAX_ENTRIES: '1000' };

describe('copy store and push/pull', () => {
  let server: TestServer;
  let alice: Api;
  let bobToken: string;
  let box: string;
  let work: string;
  const marker = randomBytes(6).toString('hex');

  beforeAll(async () => {
    server = await startTestServerWithEnv(LIMITS);
    alice = new Api(server.url, (await server.createActor('alice')).token);
    bobToken = (await server.createActor('bob')).token;
    box = (await alice.create({ name: 'copy-box' })).id;
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-copy-test-'));
  });
  afterAll(async () => {
    await server?.close();
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  const upload = async (archive: Buffer, token: string | null = alice.token!) => {
    const form = new FormData();
    form.set('file', new Blob([new Uint8Array(archive)], { type: 'application/gzip' }), 'archive.tar.gz');
    const res = await fetch(new URL('/cp', server.url), { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {}, body: form });
    return { status: res.status, body: (await res.json()) as any };
  };
  const uploaded = async (archive: Buffer) => {
    const reply = await upload(archive);
    expect(reply.status).toBe(200);
    return reply.body.uuid as string;
  };
  const getArchive = (uuid: string, token: string | null = alice.token!) =>
    fetch(new URL(`/cp/${uuid}`, server.url), { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const pull = (uuid: string, directoryPath: string) => alice.procedure('io.pocketenv.sandbox.pullDirectory', undefined, { sandboxId: box, uuid, directoryPath });
  const push = (directoryPath: string) => alice.procedure('io.pocketenv.sandbox.pushDirectory', undefined, { sandboxId: box, directoryPath });
  const sh = async (command: string) => {
    const result = await alice.exec(box, command);
    expect(result.exitCode, `${command}\n${result.stderr}`).toBe(0);
    return result.stdout as string;
  };

  it('serves an archive only to its owner, with a valid token', async () => {
    const archive = gzipOf([{ type: 'File', path: 'hello.txt', body: Buffer.from('hi\n') }]);
    expect(await upload(archive, null)).toMatchObject({ status: 401, body: { error: 'AuthenticationRequired' } });
    expect(await upload(archive, 'not-a-token')).toMatchObject({ status: 401, body: { error: 'AuthenticationRequired' } });

    const uuid = await uploaded(archive);
    expect((await getArchive(uuid, null)).status).toBe(401);
    const asBob = await getArchive(uuid, bobToken);
    expect(asBob.status).toBe(404);
    expect(await asBob.json()).toMatchObject({ error: 'NotFound' });

    const mine = await getArchive(uuid);
    expect(mine.status).toBe(200);
    expect(mine.headers.get('content-type')).toBe('application/gzip');
    expect(Buffer.from(await mine.arrayBuffer()).equals(archive)).toBe(true);

    const unknown = await pull('00000000-0000-4000-8000-000000000000', '/workspace/x');
    expect(unknown).toMatchObject({ status: 404, body: { error: 'NotFound' } });
    expect(unknown.body.message).toContain('uuid');
  });

  it('accepts a hand-built multipart body (as the Gleam SDK sends) and says what is wrong with bad ones', async () => {
    const boundary = `FormBoundary${randomBytes(8).toString('hex')}`;
    const archive = gzipOf([{ type: 'File', path: 'gleam.txt', body: Buffer.from('from gleam\n') }]);
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="archive.tar.gz"\r\nContent-Type: application/gzip\r\n\r\n`),
      archive,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const post = (contentType: string, payload: Buffer | string) =>
      fetch(new URL('/cp', server.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${alice.token}`, 'content-type': contentType },
        body: typeof payload === 'string' ? payload : new Uint8Array(payload),
      });

    const ok = await post(`multipart/form-data; boundary=${boundary}`, body);
    expect(ok.status).toBe(200);
    const { uuid } = (await ok.json()) as { uuid: string };
    expect(Buffer.from(await (await getArchive(uuid)).arrayBuffer()).equals(archive)).toBe(true);

    const noFile = await post(`multipart/form-data; boundary=${boundary}`, `--${boundary}\r\nContent-Disposition: form-data; name="other"\r\n\r\nx\r\n--${boundary}--\r\n`);
    expect(noFile.status).toBe(400);
    expect(await noFile.json()).toMatchObject({ error: 'InvalidRequest', message: expect.stringContaining('file') });
    const notMultipart = await post('application/json', '{}');
    expect(notMultipart.status).toBe(400);
    const cutShort = await post(`multipart/form-data; boundary=${boundary}`, body.subarray(0, body.length - 10));
    expect(cutShort.status).toBe(400);
  });

  it('refuses an upload over POCKETENV_COPY_MAX_BYTES with 413, declared or streamed, and keeps nothing of it', async () => {
    const tooBig = randomBytes(9 * 1024 * 1024);
    const declared = await upload(tooBig);
    expect(declared).toMatchObject({ status: 413, body: { error: 'PayloadTooLarge' } });

    // Streamed without a Content-Length: the limit is enforced while reading.
    const boundary = `b${randomBytes(8).toString('hex')}`;
    async function* chunks() {
      yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.tar.gz"\r\n\r\n`);
      for (let i = 0; i < tooBig.length; i += 256 * 1024) yield tooBig.subarray(i, i + 256 * 1024);
      yield Buffer.from(`\r\n--${boundary}--\r\n`);
    }
    const streamed = await fetch(new URL('/cp', server.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: Readable.toWeb(Readable.from(chunks())) as unknown as BodyInit,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await streamed.json()).toMatchObject({ error: 'PayloadTooLarge' });
    const left = await fs.readdir(path.join(server.dataDir, 'copy'));
    expect(left.filter((name) => name.endsWith('.part'))).toEqual([]);
  });

  it('round trip: upload → pullDirectory → pushDirectory → GET gives back the same files, byte for byte', async () => {
    const src = path.join(work, 'round-trip');
    await fs.mkdir(path.join(src, 'nested/deeper'), { recursive: true });
    await fs.mkdir(path.join(src, 'empty'));
    await fs.writeFile(path.join(src, 'binary.bin'), randomBytes(300_000));
    await fs.writeFile(path.join(src, 'nested/deeper/text.txt'), 'déjà vu\n');
    await fs.writeFile(path.join(src, 'run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
    await fs.symlink('nested/deeper/text.txt', path.join(src, 'link'));
    const archiveFile = path.join(work, 'round-trip.tar.gz');
    await tar.create({ file: archiveFile, gzip: true, cwd: src, portable: true }, ['.']);

    const uuid = await uploaded(await fs.readFile(archiveFile));
    expectOk(await pull(uuid, '/workspace/round-trip'));
    const inSandbox = await sh('cd /workspace/round-trip && find . -type f -exec sha256sum {} + | sort -k2 && readlink link && find . -type d | sort && stat -c %a run.sh');
    expect(inSandbox).toBe(await localListing(src));

    const pushed = expectOk(await push('/workspace/round-trip'));
    const back = await getArchive(pushed.uuid);
    expect(back.status).toBe(200);
    const dest = path.join(work, 'round-trip-back');
    await fs.mkdir(dest);
    await fs.writeFile(path.join(work, 'back.tar.gz'), Buffer.from(await back.arrayBuffer()));
    await tar.extract({ file: path.join(work, 'back.tar.gz'), cwd: dest });
    expect(await localListing(dest)).toBe(await localListing(src));
  });

  it('pushDirectory of a single file packs one entry named after it', async () => {
    await sh('mkdir -p /workspace/single && printf "one file" > /workspace/single/-odd-name.txt');
    const { uuid } = expectOk(await push('/workspace/single/-odd-name.txt'));
    const archive = Buffer.from(await (await getArchive(uuid)).arrayBuffer());
    const names: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const parser = new tar.Parser({ onReadEntry: (e) => (names.push(e.path), e.resume()) });
      parser.on('end', resolve).on('error', reject);
      parser.end(archive);
    });
    expect(names).toEqual(['./-odd-name.txt']);
  });

  describe('hostile archives', () => {
    let corpus: HostileArchive[];
    beforeAll(async () => {
      const dir = await fs.mkdtemp(path.join(work, 'corpus-'));
      corpus = await buildHostileCorpus(dir, { marker, maxEntries: 1000, maxUnpackedBytes: 64 * 1024 * 1024 });
    });

    it('pullDirectory refuses every one with 400 naming why, and nothing is written outside the target', async () => {
      const passwdBefore = await sh('sha256sum /etc/passwd');
      await sh('touch /tmp/.before-corpus');
      const hostPasswd = await fs.readFile('/etc/passwd');

      for (const c of corpus) {
        const uuid = await uploaded(await fs.readFile(c.file)); // the store keeps bytes as they are
        const reply = await pull(uuid, '/workspace/target');
        expect(reply.status, c.name).toBe(400);
        expect(reply.body.error, c.name).toBe('InvalidRequest');
        expect(reply.body.message, c.name).toMatch(c.why);
      }

      // In the sandbox: nothing changed anywhere on its filesystem (the target was never even created).
      const changed = await sh('find / /tmp /workspace -xdev -newer /tmp/.before-corpus -print');
      expect(changed).toBe('');
      expect(await sh(`find / /tmp /workspace -xdev -name '*${marker}*' -print`)).toBe('');
      expect(await sh('sha256sum /etc/passwd')).toBe(passwdBefore);

      // On this host: none of the targets exist, nothing carries the marker, /etc/passwd is intact.
      for (const target of corpus.flatMap((c) => c.targets)) {
        await expect(fs.lstat(target), target).rejects.toMatchObject({ code: 'ENOENT' });
      }
      expect(await findNamed([[os.tmpdir(), 1], ['/etc', 3], [work, 8], [path.join(server.dataDir, 'copy'), 1]], marker)).toEqual([]);
      expect((await fs.readFile('/etc/passwd')).equals(hostPasswd)).toBe(true);
    });
  });

  it('differential: every archive tar programs read differently is a 400, or GNU tar in the sandbox unpacks exactly the names the check approved', async () => {
    const m = randomBytes(5).toString('hex');
    await sh('mkdir -p /workspace/diff && touch /tmp/.before-differential');
    let unpacked = 0;
    for (const [i, c] of differentialCorpus(m).entries()) {
      const verdict = await judge(c.tar);
      const reply = await pull(await uploaded(gzipSync(c.tar)), `/workspace/diff/${i}`);
      if ('refused' in verdict) {
        expect(reply.status, `${c.name}: ${JSON.stringify(reply.body)}`).toBe(400);
        expect(reply.body.error, c.name).toBe('InvalidRequest');
        expect(reply.body.message, c.name).toContain(verdict.refused.message);
        expect(c.verdict, `${c.name}: refused (${verdict.refused.message})`).toBe('refused');
        continue;
      }
      unpacked++;
      expect(reply.status, `${c.name}: ${JSON.stringify(reply.body)}`).toBe(200);
      const listing = await sh(`cd /workspace/diff/${i} && find . -mindepth 1 -printf '%P\\0'`);
      expect(listing.split('\0').filter(Boolean).sort(), c.name).toEqual(verdict.names);
      expect(c.verdict, c.name).toBe('unpacked');
    }
    expect(unpacked).toBeGreaterThan(10);
    // Nothing was written anywhere else in the sandbox, nor on this host.
    expect(await sh("find / -xdev -newer /tmp/.before-differential -not -path '/workspace/diff*' -print")).toBe('');
    expect(await sh(`find / -xdev -name '*${m}*' -not -path '/workspace/diff/*' -print`)).toBe('');
    expect(await findNamed([[os.tmpdir(), 1], ['/etc', 3], ['/root', 2], [work, 8]], m)).toEqual([]);
  });

  it('pushDirectory refuses to hand out what could escape on the other side: a link pointing outside, a fifo', async () => {
    await sh('mkdir -p /workspace/with-link /workspace/with-fifo && ln -sf /etc/passwd /workspace/with-link/passwd && mkfifo /workspace/with-fifo/pipe');
    const link = await push('/workspace/with-link');
    expect(link.status).toBe(400);
    expect(link.body.message).toMatch(/directoryPath: .*points outside/);
    const fifo = await push('/workspace/with-fifo');
    expect(fifo.status).toBe(400);
    expect(fifo.body.message).toMatch(/fifo/);
  });

  it('stops a pushDirectory whose archive goes over the limit (413) and keeps nothing of it', async () => {
    await sh('mkdir -p /workspace/big && head -c 9437184 /dev/urandom > /workspace/big/random.bin');
    const reply = await push('/workspace/big');
    expect(reply).toMatchObject({ status: 413, body: { error: 'PayloadTooLarge', message: expect.stringContaining('8 MiB') } });
    expect((await fs.readdir(path.join(server.dataDir, 'copy'))).filter((name) => name.endsWith('.part'))).toEqual([]);
  });

  it('checks paths and the sandbox state', async () => {
    expect(await push('workspace')).toMatchObject({ status: 400, body: { message: expect.stringContaining('directoryPath') } });
    expect(await push('/workspace/nope')).toMatchObject({ status: 400, body: { message: expect.stringMatching(/does not exist/) } });
    const uuid = await uploaded(gzipOf([{ type: 'File', path: 'x', body: Buffer.from('x') }]));
    const onAFile = await pull(uuid, '/etc/hostname');
    expect(onAFile.status).toBe(400);
    expect(onAFile.body.message).toContain('directoryPath');
    // Someone else's sandbox does not exist for bob.
    expect(await alice.as(bobToken).procedure('io.pocketenv.sandbox.pushDirectory', undefined, { sandboxId: box, directoryPath: '/workspace' })).toMatchObject({
      status: 404,
      body: { error: 'SandboxNotFound' },
    });

    expectOk(await alice.procedure('io.pocketenv.sandbox.stopSandbox', { id: box }, {}));
    expect(await pull(uuid, '/workspace/x')).toMatchObject({ status: 400, body: { message: expect.stringContaining('not RUNNING') } });
  });
});

/** The same listing the sandbox prints: sha256 of every file, the link's target, the directories, run.sh's mode. */
async function localListing(dir: string): Promise<string> {
  const files: string[] = [];
  const dirs: string[] = ['.'];
  const walk = async (rel: string) => {
    for (const d of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel === '.' ? `./${d.name}` : `${rel}/${d.name}`;
      if (d.isDirectory()) {
        dirs.push(child);
        await walk(child);
      } else if (d.isFile()) {
        files.push(`${createHash('sha256').update(await fs.readFile(path.join(dir, child))).digest('hex')}  ${child}`);
      }
    }
  };
  await walk('.');
  const sortC = (a: string[]) => a.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const bySecondField = files.sort((x, y) => (x.slice(66) < y.slice(66) ? -1 : x.slice(66) > y.slice(66) ? 1 : 0));
  const mode = ((await fs.stat(path.join(dir, 'run.sh'))).mode & 0o777).toString(8);
  return `${bySecondField.join('\n')}\n${await fs.readlink(path.join(dir, 'link'))}\n${sortC(dirs).join('\n')}\n${mode}\n`;
}

/** Every path under each root (down to its depth, not following links) whose name contains `word`. */
async function findNamed(roots: Array<[string, number]>, word: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, depth: number) => {
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const d of entries) {
      const p = path.join(dir, d.name);
      if (d.name.includes(word)) found.push(p);
      if (d.isDirectory() && depth > 1) await walk(p, depth - 1);
    }
  };
  for (const [root, depth] of roots) await walk(root, depth);
  return found;
}
