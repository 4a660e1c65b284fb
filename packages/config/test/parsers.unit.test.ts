/**
 * The setting parsers the server and the CLI share: what each accepts, and that a bad value
 * names its variable and says what to use. Pure functions, no server.
 */
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  parseBoolean,
  parseByteSize,
  parseChoice,
  parseDuration,
  parseInteger,
  parseNumber,
  parseUrl,
  settingsFrom,
} from '../src/index';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['15m', 900_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
    ['900', 900_000],
    ['1.5h', 5_400_000],
    [' 0 ', 0],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text, 'X')).toBe(ms));

  it('refuses anything else, naming the variable and the forms it takes', () => {
    expect(() => parseDuration('5x', 'POCKETENV_COPY_TTL')).toThrow('POCKETENV_COPY_TTL: "5x" is not a duration; use e.g. 30s, 15m, 2h or 7d');
    for (const bad of ['', 'h', '-1s', '1w', '1 day', '1h30m']) expect(() => parseDuration(bad, 'X')).toThrow(ConfigError);
  });

  it('refuses 0 where zero makes no sense', () => {
    expect(() => parseDuration('0s', 'POCKETENV_COPY_TIMEOUT', { allowZero: false })).toThrow('POCKETENV_COPY_TIMEOUT: must be more than zero');
  });
});

describe('parseByteSize', () => {
  it.each([
    ['1048576', 1_048_576],
    ['64k', 65_536],
    ['512MiB', 536_870_912],
    ['512mb', 536_870_912],
    ['2G', 2_147_483_648],
    ['4 GiB', 4_294_967_296],
  ])('%s is %d bytes', (text, bytes) => expect(parseByteSize(text, 'X')).toBe(bytes));

  it('refuses unknown units, nonsense and zero', () => {
    expect(() => parseByteSize('12 parsecs', 'POCKETENV_COPY_MAX_BYTES')).toThrow('POCKETENV_COPY_MAX_BYTES: "12 parsecs" is not a size; use e.g. 1048576, 512MiB or 2GiB');
    expect(() => parseByteSize('1TB', 'X')).toThrow(ConfigError);
    expect(() => parseByteSize('0', 'X')).toThrow('X: must be more than zero');
  });
});

describe('parseBoolean', () => {
  it('takes 1/0, true/false, on/off, yes/no in any case', () => {
    for (const on of ['1', 'true', 'ON', 'yes']) expect(parseBoolean(on, 'X')).toBe(true);
    for (const off of ['0', 'False', 'off', 'no']) expect(parseBoolean(off, 'X')).toBe(false);
  });
  it('refuses anything else instead of guessing', () => {
    expect(() => parseBoolean('maybe', 'POCKETENV_STOP_ON_EXIT')).toThrow('POCKETENV_STOP_ON_EXIT: "maybe" is not on or off; use 1, 0, true, false, on or off');
  });
});

describe('numbers, choices and URLs', () => {
  it('parseInteger checks wholeness and bounds', () => {
    expect(parseInteger('8789', 'POCKETENV_PORT', { min: 0, max: 65535 })).toBe(8789);
    expect(() => parseInteger('70000', 'POCKETENV_PORT', { min: 0, max: 65535 })).toThrow('POCKETENV_PORT: "70000" is not a whole number between 0 and 65535');
    expect(() => parseInteger('2.5', 'X', { min: 0 })).toThrow('X: "2.5" is not a whole number of at least 0');
    expect(() => parseInteger('1e3', 'X')).toThrow(ConfigError);
  });
  it('parseNumber takes fractions within bounds', () => {
    expect(parseNumber('0.5', 'POCKETENV_EXEC_RATE', { min: 0 })).toBe(0.5);
    expect(() => parseNumber('fast', 'POCKETENV_EXEC_RATE', { min: 0 })).toThrow('POCKETENV_EXEC_RATE: "fast" is not a number of at least 0');
    expect(() => parseNumber('-1', 'X', { min: 0 })).toThrow(ConfigError);
  });
  it('parseChoice returns the listed spelling', () => {
    expect(parseChoice('DEBUG', 'X', ['info', 'debug'] as const)).toBe('debug');
    expect(() => parseChoice('loud', 'X', ['info', 'debug'] as const)).toThrow('X: "loud" is not one of info, debug');
  });
  it('parseUrl takes absolute URLs of the allowed protocols', () => {
    expect(parseUrl('https://api.example.com/x', 'X').host).toBe('api.example.com');
    expect(() => parseUrl('ftp://example.com', 'X')).toThrow('X: "ftp://example.com" is not a URL; use e.g. http://example.com');
    expect(() => parseUrl('example.com', 'X')).toThrow(ConfigError);
  });
});

describe('settingsFrom', () => {
  it('gives the default for an unset or empty variable and parses the rest', () => {
    const settings = settingsFrom({ A: '2h', B: '', C: ' on ', D: 'a, b,,c' });
    expect(settings.duration('A', 1)).toBe(7_200_000);
    expect(settings.duration('B', 1)).toBe(1);
    expect(settings.duration('UNSET', 42)).toBe(42);
    expect(settings.boolean('C', false)).toBe(true);
    expect(settings.list('D', [])).toEqual(['a', 'b', 'c']);
    expect(settings.string('B', 'fallback')).toBe('fallback');
  });
  it('reads only the environment it was given, never process.env', () => {
    process.env.POCKETENV_UNIT_PROBE = '5x';
    try {
      expect(settingsFrom({}).duration('POCKETENV_UNIT_PROBE', 7)).toBe(7);
    } finally {
      delete process.env.POCKETENV_UNIT_PROBE;
    }
  });
});
