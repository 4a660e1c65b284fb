/**
 * copy.upload / download / to against a real server and real sandboxes (byte-identical round
 * trips; ignore files, nested ones too), and download against a fake server that answers with
 * hostile archives: every one must be refused before anything is written.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startTestServer } from '@pocketenv/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveError, type Client, ConnectedSandbox, copy, pocketenv, type SandboxView, sandbox } from '../src/index';
import { buildHostileCorpus, type HostileArchive } from './support/archive-corpus';
import { differentialCorpus, judge } from './support/differential-corpus';
import { gzipSync } from 'node:zlib';

/** path → 'dir' | 'link:<target>' | sha256 of the file, for a whole local tree. */
async function tree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string) => {
    for (const d of await fs.readdir(path.join(root, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${d.name}` : d.name;
      const full = path.join(root, child);
      if (d.isSymbolicLink()) out[child] = `link:${await fs.readlink(full)}`;
      else if (d.isDirectory()) {
        out[child] = 'dir';
        await walk(child);
      } else out[child] = createHash('sha256').update(await fs.readFile(full)).digest('hex');
    }
  };
  await walk('');
  return out;
}

async function write(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await fs.writeFile(path.join(root, rel), content);
  }
}

describe('copy through a real server', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let client: Client;
  let a: ConnectedSandbox;
  let b: ConnectedSandbox;
  let work: string;

  beforeAll(async () => {
    server = await startTestServer();
    client = pocketenv.newClient((await server.createActor('alice')).token, { baseUrl: server.url });
    [a, b] = await Promise.all([sandbox.create(sandbox.new(client, 'sdk-copy-a')), sandbox.create(sandbox.new(client, 'sdk-copy-b'))]);
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-sdk-copy-'));
  });
  afterAll(async () => {
    await server?.close();
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it('a single file goes up and comes back byte-identical, landing in the directory under its name', async () => {
    const file = path.join(work, 'blob.bin');
    const bytes = randomBytes(1_500_000);
    await fs.writeFile(file, bytes);
    const phases = new Set<string>();
    await copy.upload(a, file, '/workspace/in', { onProgress: (p) => phases.add(p.phase) });
    expect([...phases]).toEqual(expect.arrayContaining(['pack', 'upload', 'remote']));
    expect((await a.exec('sha256sum /workspace/in/blob.bin')).stdout.split(' ')[0]).toBe(createHash('sha256').update(bytes).digest('hex'));

    const back = path.join(work, 'file-back');
    await copy.download(a, '/workspace/in/blob.bin', back);
    expect((await fs.readFile(path.join(back, 'blob.bin'))).equals(bytes)).toBe(true);
  });

  it('a directory goes up without what its ignore files exclude (nested ones too) and comes back identical', async () => {
    const src = path.join(work, 'proj');
    await write(src, {
      '.gitignore': 'node_modules/\n*.log\n/build\n',
      '.npmignore': 'coverage/\n',
      '.dockerignore': 'Dockerfile.dev\n',
      '.pocketenvignore': '!keep.log\nsecret.env\n',
      'keep.log': 'kept: .pocketenvignore has the last word\n',
      'debug.log': 'ignored\n',
      'build/out.js': 'ignored: /build is anchored to the root\n',
      'src/build/gen.js': 'kept: not the root build\n',
      'src/app.js': 'console.log("app")\n',
      'src/.gitignore': '*.tmp\n!important.tmp\n',
      'src/x.tmp': 'ignored by the nested .gitignore\n',
      'src/important.tmp': 'kept by the nested negation\n',
      'src/sub/y.tmp': 'ignored at any depth below src\n',
      'x.tmp': 'kept: src/.gitignore does not apply here\n',
      'node_modules/pkg/index.js': 'ignored\n',
      'src/node_modules/z.js': 'ignored at any depth\n',
      'coverage/lcov.info': 'ignored by .npmignore\n',
      'secret.env': 'TOKEN=ignored\n',
      'Dockerfile.dev': 'ignored by .dockerignore\n',
      'data.bin': randomBytes(200_000),
    });
    await fs.mkdir(path.join(src, 'empty'));
    await fs.symlink('src/app.js', path.join(src, 'link'));

    // Directories stay even when all they hold is ignored (src/sub), as in a docker build context.
    const expected = await tree(src);
    for (const gone of ['debug.log', 'build', 'build/out.js', 'src/x.tmp', 'src/sub/y.tmp', 'node_modules', 'node_modules/pkg', 'node_modules/pkg/index.js',
      'src/node_modules', 'src/node_modules/z.js', 'coverage', 'coverage/lcov.info', 'secret.env', 'Dockerfile.dev']) {
      expect(expected, gone).toHaveProperty([gone]);
      delete expected[gone];
    }

    await copy.upload(a, src, '/workspace/proj');
    const listed = (await a.exec('cd /workspace/proj && find . -mindepth 1 | sed "s|^./||" | LC_ALL=C sort')).stdout.trim().split('\n');
    expect(listed).toEqual(Object.keys(expected).sort());

    const back = path.join(work, 'proj-back');
    await copy.download(a, '/workspace/proj', back);
    expect(await tree(back)).toEqual(expected);
  });

  it('sandbox → sandbox copies the same bytes without touching this machine', async () => {
    await a.exec('mkdir -p /workspace/s2s/d && head -c 300000 /dev/urandom > /workspace/s2s/d/r.bin && echo hi > /workspace/s2s/t.txt && ln -s d/r.bin /workspace/s2s/l');
    // Any temporary file the SDK made would land in TMPDIR: give it an empty one to watch.
    const tmp = await fs.mkdtemp(path.join(work, 'tmp-'));
    const savedTmp = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      await copy.to(a, b, '/workspace/s2s', '/workspace/s2s-copy');
    } finally {
      if (savedTmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = savedTmp;
    }
    expect(await fs.readdir(tmp)).toEqual([]);

    const fingerprint = "find . -printf '%p %y %l\\n' | LC_ALL=C sort && find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2";
    const inA = await a.exec(`cd /workspace/s2s && ${fingerprint}`);
    const inB = await b.exec(`cd /workspace/s2s-copy && ${fingerprint}`);
    expect(inB.stdout).toBe(inA.stdout);
    expect(inA.stdout).toContain('./l l d/r.bin');
  });

  it('refuses to upload a directory with a link pointing outside it, naming the link', async () => {
    const src = path.join(work, 'venv');
    await fs.mkdir(path.join(src, 'bin'), { recursive: true });
    await fs.symlink('/usr/bin/python3', path.join(src, 'bin/python'));
    const failure = await copy.upload(a, src, '/workspace/venv').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ArchiveError);
    expect((failure as Error).message).toMatch(/bin\/python.*points outside/);
    expect((await a.exec('test -e /workspace/venv; echo $?')).stdout).toBe('1\n');
  });
});

describe('download from a server that sends hostile archives', () => {
  let fake: http.Server;
  let client: Client;
  let sb: ConnectedSandbox;
  let work: string;
  let corpus: HostileArchive[];
  let serving: string;
  const marker = randomBytes(6).toString('hex');
  const limits = { maxEntries: 1000, maxUnpackedBytes: 64 * 1024 * 1024, maxArchiveBytes: 8 * 1024 * 1024 };

  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'pocketenv-sdk-hostile-'));
    corpus = await buildHostileCorpus(await fs.mkdtemp(path.join(work, 'corpus-')), { marker, ...limits });
    // Answers pushDirectory with a uuid and GET /cp/<uuid> with whatever `serving` names.
    fake = http.createServer((req, res) => {
      if (req.url?.startsWith('/xrpc/io.pocketenv.sandbox.pushDirectory')) {
        req.resume();
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ uuid: '11111111-1111-4111-8111-111111111111' }));
      } else if (req.url?.startsWith('/cp/')) {
        res.setHeader('content-type', 'application/gzip');
        createReadStream(serving).pipe(res);
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    client = pocketenv.newClient('fake-token', { baseUrl: `http://127.0.0.1:${(fake.address() as AddressInfo).port}` });
    sb = sandbox.connect({ id: 'sbx_fake', name: 'fake', provider: 'local', baseSandbox: 'debian', status: 'RUNNING', createdAt: new Date().toISOString() } as SandboxView, client);
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => (fake ? fake.close(() => resolve()) : resolve()));
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it('refuses every archive of the corpus and writes nothing, in the destination or outside it', async () => {
    const dest = path.join(work, 'dest');
    const hostPasswd = await fs.readFile('/etc/passwd');
    // The SDK's temporary downloads go to TMPDIR: an empty one shows they are cleaned up.
    const tmp = await fs.mkdtemp(path.join(work, 'tmp-'));
    const download = async () => {
      const savedTmp = process.env.TMPDIR;
      process.env.TMPDIR = tmp;
      try {
        return await copy.download(sb, '/workspace', dest, { limits }).catch((e: unknown) => e);
      } finally {
        if (savedTmp === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = savedTmp;
      }
    };
    for (const c of corpus) {
      serving = c.file;
      const failure = await download();
      expect(failure, c.name).toBeInstanceOf(ArchiveError);
      expect((failure as Error).message, c.name).toMatch(c.why);
      await expect(fs.readdir(dest), c.name).rejects.toMatchObject({ code: 'ENOENT' });
      for (const target of c.targets) await expect(fs.lstat(target), `${c.name}: ${target}`).rejects.toMatchObject({ code: 'ENOENT' });
    }
    expect((await fs.readFile('/etc/passwd')).equals(hostPasswd)).toBe(true);
    const named = (dir: string) => fs.readdir(dir).then((names) => names.filter((n) => n.includes(marker)));
    expect([...(await named('/tmp')), ...(await named('/etc')), ...(await named(work))]).toEqual([]);
    expect(await fs.readdir(tmp)).toEqual([]);
  });

  it('differential: copy.download refuses what tar programs read differently, or writes exactly the names the check approved', async () => {
    const m = randomBytes(5).toString('hex');
    let unpacked = 0;
    for (const [i, c] of differentialCorpus(m).entries()) {
      serving = path.join(work, `differential-${i}.tar.gz`);
      await fs.writeFile(serving, gzipSync(c.tar));
      const dest = path.join(work, `differential-dest-${i}`);
      const verdict = await judge(c.tar);
      const failure = await copy.download(sb, '/workspace', dest, { limits }).then(() => undefined, (e: unknown) => e);
      if ('refused' in verdict) {
        expect(failure, c.name).toBeInstanceOf(ArchiveError);
        expect((failure as Error).message, c.name).toContain(verdict.refused.message);
        await expect(fs.readdir(dest), c.name).rejects.toMatchObject({ code: 'ENOENT' });
        continue;
      }
      unpacked++;
      expect(failure, c.name).toBeUndefined();
      expect(Object.keys(await tree(dest)).sort(), c.name).toEqual(verdict.names);
    }
    expect(unpacked).toBeGreaterThan(10);
    const named = (dir: string) => fs.readdir(dir).then((names) => names.filter((n) => n.includes(m)));
    expect([...(await named('/tmp')), ...(await named('/etc')), ...(await named(work))]).toEqual([]);
  });

  it('stops reading an archive larger than maxArchiveBytes', async () => {
    serving = path.join(work, 'big.tar.gz');
    await fs.writeFile(serving, randomBytes(2 * 1024 * 1024));
    const failure = await copy.download(sb, '/workspace', path.join(work, 'big-dest'), { limits: { ...limits, maxArchiveBytes: 1024 * 1024 } }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ArchiveError);
    expect(failure).toMatchObject({ reason: 'too-large' });
  });
});
