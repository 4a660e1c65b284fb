import { startTestServer } from '@pocketenv/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli';

// pause, resume and fork as a user types them.
describe('pocketenv pause / resume / fork', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let env: Record<string, string>;
  const cli = (...args: string[]) => runCli(args, env);
  const row = async (name: string) => {
    const { stdout } = await cli('ls');
    return stdout.split('\n').find((line) => line.startsWith(name)) ?? '';
  };

  beforeAll(async () => {
    server = await startTestServer({ idleTimeoutMs: 0 });
    const alice = await server.createActor('alice');
    env = { POCKETENV_API_URL: server.url, POCKETENV_TOKEN: alice.token, NO_COLOR: '1' };
  });
  afterAll(async () => {
    await server?.close();
  });

  it('pause shows PAUSED, exec resumes it with its processes, resume and fork work, an unknown name exits 4', async () => {
    expect((await cli('create', 'cli-pause')).code).toBe(0);
    expect((await cli('exec', 'cli-pause', 'echo kept > /workspace/f; nohup sleep 3604 >/dev/null 2>&1 &')).code).toBe(0);

    expect(await cli('pause', 'cli-pause')).toMatchObject({ code: 0, stdout: 'Paused cli-pause\n' });
    expect(await row('cli-pause')).toMatch(/PAUSED/);
    const seen = await cli('exec', 'cli-pause', "ps -eo args= | grep -c '^sleep 3604$'");
    expect(seen).toMatchObject({ code: 0, stdout: '1\n' });
    expect(await row('cli-pause')).not.toMatch(/PAUSED/);

    await cli('pause', 'cli-pause');
    expect(await cli('resume', 'cli-pause')).toMatchObject({ code: 0, stdout: 'Resumed cli-pause\n' });
    expect(await row('cli-pause')).not.toMatch(/PAUSED/);

    const forked = await cli('fork', 'cli-pause', '--name', 'cli-pause-copy');
    expect(forked.code).toBe(0);
    expect(forked.stdout).toMatch(/^Forked cli-pause into cli-pause-copy \(sbx_\w+, RUNNING\)\n$/);
    expect(await cli('exec', 'cli-pause-copy', 'cat', '/workspace/f')).toMatchObject({ code: 0, stdout: 'kept\n' });

    expect((await cli('pause', 'no-such-sandbox')).code).toBe(4);
  });
});
