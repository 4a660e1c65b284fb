import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli';

// What a user of the hosted CLI expects to find, in help order (a command dropped or renamed fails here).
const COMMANDS = [
  'serve', 'setup', 'bases', 'create', 'ls', 'ps', 'start', 'stop', 'pause', 'resume', 'fork', 'rm', 'exec', 'console', 'vscode', 'cp', 'backup',
  'env', 'secret', 'file', 'sshkeys', 'tailscale', 'volume', 'service', 'expose', 'unexpose', 'ports', 'whoami', 'token',
];

describe('pocketenv --help and usage errors', () => {
  it('lists every command', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    const listed = stdout
      .split('\n')
      .map((line) => /^ {2}([a-z]+)[ |]/.exec(line)?.[1])
      .filter((name): name is string => !!name);
    expect(listed).toEqual([...COMMANDS, 'help']);
    expect(stdout).toContain('--api-url <url>');
    expect(stdout).toContain('--token <token>');
  });

  it('documents each command’s own options', async () => {
    const create = await runCli(['create', '--help']);
    for (const flag of ['--base', '--provider', '--repo', '--description', '--vcpus', '--memory', '--disk', '--keep-alive', '--json']) {
      expect(create.stdout).toContain(flag);
    }
    const exec = await runCli(['exec', '--help']);
    expect(exec.stdout).toContain('sh -c');
    expect(exec.stdout).toContain('exit code');
    const token = await runCli(['token', 'create', '--help']);
    expect(token.stdout).toContain('--handle <name>');
    for (const listing of ['ls', 'ps']) expect((await runCli([listing, '--help'])).stdout).toContain('--json');
  });

  it('exits 2 with a message on stderr for a wrong command line', async () => {
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    expect(unknown.stdout).toBe('');

    const missing = await runCli(['start']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'sandbox'");

    const notANumber = await runCli(['create', '--vcpus', 'two']);
    expect(notANumber.code).toBe(2);
    expect(notANumber.stderr).toContain('--vcpus');

    const noHandle = await runCli(['token', 'create']);
    expect(noHandle.code).toBe(2);
    expect(noHandle.stderr).toContain('--handle');
  });

  it('prints its version', async () => {
    const { code, stdout } = await runCli(['--version']);
    expect(code).toBe(0);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('says plainly when no server answers, exit 1, no stack trace', async () => {
    const { code, stderr } = await runCli(['ls'], { POCKETENV_API_URL: 'http://127.0.0.1:9', POCKETENV_TOKEN: 'x' });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: cannot reach http:\/\/127\.0\.0\.1:9/);
    expect(stderr).toContain('pocketenv serve');
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
