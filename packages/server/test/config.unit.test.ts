/**
 * resolveConfig: every server setting comes from the environment snapshot it is given, once;
 * production defaults do not change under a test runner; a bad value names its variable.
 * Pure (no server, no root).
 */
import { ConfigError } from '@pocketenv/config';
import { describe, expect, it } from 'vitest';
import { DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_PORT, resolveConfig } from '../src/config';

describe('resolveConfig', () => {
  it('gives the production defaults even under vitest (the test helpers opt out themselves)', () => {
    expect(process.env.VITEST).toBeDefined();
    const config = resolveConfig({ dataDir: '/tmp/pocketenv-config-unit' }, {});
    expect(config.log).toBe(true);
    expect(config.logDebug).toBe(false);
    expect(config.pool).toMatchObject({ size: 2, bases: ['debian'] });
    expect(config.pool.max).toBeGreaterThanOrEqual(2); // grows under bursts, never below the size
    expect(config.port).toBe(DEFAULT_PORT);
    expect(config.idleTimeoutMs).toBe(DEFAULT_IDLE_TIMEOUT_MS);
    expect(config.local).toEqual({ imageDir: '/var/cache/pocketenv/images', toolsDir: '/var/cache/pocketenv/tools', execAgent: true });
    expect(config.transfer.copyTtlMs).toBe(3_600_000);
    expect(config.limits.maxRunning).toBe(64);
  });

  it('reads every group of settings from the env it is given, with the shared parsers', () => {
    const config = resolveConfig(
      { dataDir: '/tmp/x' },
      {
        POCKETENV_LOG: 'debug',
        POCKETENV_POOL_SIZE: '0',
        POCKETENV_POOL_BASES: 'debian, node',
        POCKETENV_IDLE_TIMEOUT: '2d',
        POCKETENV_STOP_ON_EXIT: 'on',
        POCKETENV_COPY_TTL: '7d',
        POCKETENV_COPY_MAX_BYTES: '64k',
        POCKETENV_MAX_RUNNING: '0',
        POCKETENV_EXEC_AGENT: 'off',
        POCKETENV_IMAGE_DIR: '/srv/images',
        POCKETENV_POOL_MAX: '4',
        POCKETENV_PREVIEW_HEADERS_TIMEOUT: '5s',
      },
    );
    expect(config.log).toBe(true);
    expect(config.logDebug).toBe(true);
    expect(config.pool).toMatchObject({ size: 0, bases: ['debian', 'node'] });
    expect(config.pool.max).toBeLessThanOrEqual(4); // POCKETENV_POOL_MAX, bounded by free memory too
    expect(config.idleTimeoutMs).toBe(2 * 86_400_000);
    expect(config.stopOnExit).toBe(true);
    expect(config.transfer.copyTtlMs).toBe(7 * 86_400_000);
    expect(config.transfer.limits.maxArchiveBytes).toBe(65_536);
    expect(config.limits.maxRunning).toBe(0);
    expect(config.local.execAgent).toBe(false);
    expect(config.local.imageDir).toBe('/srv/images');
    expect(config.preview.headersTimeoutMs).toBe(5000);
  });

  it('lets explicit options win over the environment', () => {
    const config = resolveConfig({ dataDir: '/tmp/x', log: false, poolSize: 1, port: 0 }, { POCKETENV_LOG: '1', POCKETENV_POOL_SIZE: '3', POCKETENV_PORT: '9000' });
    expect(config.log).toBe(false);
    expect(config.pool.size).toBe(1);
    expect(config.port).toBe(0);
  });

  it.each([
    ['POCKETENV_PORT', 'http', /POCKETENV_PORT: "http" is not a whole number between 0 and 65535/],
    ['POCKETENV_IDLE_TIMEOUT', 'soon', /POCKETENV_IDLE_TIMEOUT: "soon" is not a duration/],
    ['POCKETENV_LOG', 'loud', /POCKETENV_LOG: "loud" is not on or off/],
    ['POCKETENV_EXEC_AGENT', 'maybe', /POCKETENV_EXEC_AGENT: "maybe" is not on or off/],
    ['POCKETENV_COPY_TIMEOUT', '0', /POCKETENV_COPY_TIMEOUT: must be more than zero/],
    ['POCKETENV_MAX_SANDBOXES', '-1', /POCKETENV_MAX_SANDBOXES: "-1" is not a whole number of at least 0/],
    ['POCKETENV_PROVIDER_ALIASES', 'cloudflare', /POCKETENV_PROVIDER_ALIASES: "cloudflare" is not NAME=PROVIDER/],
  ])('%s=%s is a ConfigError naming the variable', (name, value, message) => {
    const resolve = () => resolveConfig({ dataDir: '/tmp/x' }, { [name]: value });
    expect(resolve).toThrow(ConfigError);
    expect(resolve).toThrow(message);
  });
});
