/**
 * Bases (templates): what describeServer says about them, that an unknown one is refused with
 * the list of good ones, that creating from one counts an install, and that the agent bases
 * really contain their tool (its --version runs inside the sandbox).
 *
 * The images are built once per machine by `pocketenv setup` (DEFAULT_BASES) into the shared
 * image cache; a machine without them builds them here on first use.
 */
import { startTestServer } from '@pocketenv/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, expectOk } from './helpers';

const ALL_BASES = ['claude', 'codex', 'debian', 'gemini', 'node', 'openclaw', 'opencode', 'python'];

describe('bases', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let api: Api;
  const describeServer = async () => expectOk(await api.query('io.pocketenv.server.describeServer'));
  const installsOf = async (base: string) => (await describeServer()).baseDetails.find((b: { name: string }) => b.name === base)?.installs;

  beforeAll(async () => {
    server = await startTestServer();
    api = new Api(server.url, (await server.createActor('alice')).token);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('describeServer lists every base with a description, readiness and install count', async () => {
    const described = await describeServer();
    expect([...described.bases].sort()).toEqual(ALL_BASES);
    expect(described.baseDetails.map((b: { name: string }) => b.name).sort()).toEqual(ALL_BASES);
    for (const base of described.baseDetails) {
      expect(base.description, base.name).toMatch(/\w{3,}/);
      expect(typeof base.ready).toBe('boolean');
      expect(base.installs).toBe(0);
    }
    expect(described.baseDetails.find((b: { name: string }) => b.name === 'claude').description).toMatch(/Claude Code/);
  });

  it('an unknown base is a 400 that lists the available ones', async () => {
    const reply = await api.procedure('io.pocketenv.sandbox.createSandbox', undefined, { base: 'ubuntu' });
    expect(reply.status).toBe(400);
    expect(reply.body.error).toBe('InvalidRequest');
    expect(reply.body.message).toMatch(/^base: unknown base "ubuntu"/);
    for (const name of ALL_BASES) expect(reply.body.message).toContain(name);
    expect(await installsOf('debian')).toBe(0);
  });

  it.each([
    ['node', 'node --version', /^v24\.\d+\.\d+\n$/],
    ['claude', 'claude --version', /^2\.\d+\.\d+ \(Claude Code\)\n$/],
    ['openclaw', 'openclaw --version', /\b2026\.\d+\.\d+\b/],
  ])('a sandbox created from %s runs `%s`, and the install is counted', async (base, command, version) => {
    const sandbox = await api.create({ base, name: `base-${base}` });
    expect(sandbox.baseSandbox).toBe(base);
    const result = await api.exec(sandbox.id, command);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(version);
    expect(await installsOf(base)).toBe(1);
    // A counter, not a head count: deleting the sandbox does not undo the install.
    await api.delete(sandbox.id);
    expect(await installsOf(base)).toBe(1);
  });
});
