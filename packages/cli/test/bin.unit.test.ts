/**
 * The real `pocketenv` binary as a process, a few times: what only a process shows (the exit
 * status the shell sees, output on the real stdout and stderr). Everything else about the
 * commands runs in-process (cli.unit.test.ts).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '@pocketenv/server/testing';
import { runCli } from './run-cli';

let server: TestServer;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer({ providers: 'fake' });
  env = { POCKETENV_API_URL: server.url, POCKETENV_TOKEN: server.ownerToken };
});

afterAll(async () => {
  await server?.close();
});

it('exits with the remote command’s code, its output on the process’s stdout and stderr', async () => {
  const created = await runCli(['create', 'bin-box', '--provider', 'fake', '--base', 'host'], env);
  expect(created.code, created.stderr).toBe(0);
  const r = await runCli(['exec', 'bin-box', 'echo to-stdout; echo to-stderr >&2; exit 42'], env);
  expect(r).toEqual({ code: 42, stdout: 'to-stdout\n', stderr: 'to-stderr\n' });
});

it('exits 2 on a usage error, with the message on stderr', async () => {
  const r = await runCli(['create', '--memory', 'lots'], env);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toContain("option '--memory <GiB>' argument 'lots' is invalid. expected a positive number.");
});
