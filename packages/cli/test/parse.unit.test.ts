/** The CLI's option parsers: what `--ttl`, `--expires`, `--vcpus`, `--memory` accept, and the message when they do not. */
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { durationSeconds, positiveNumber, wholeNumber } from '../src/commands/parse';
import { toShellCommand } from '../src/commands/exec';

describe('durationSeconds (--ttl, --expires)', () => {
  it.each([
    ['3600', 3600],
    ['45s', 45],
    ['90m', 5400],
    ['12h', 43_200],
    ['7d', 604_800],
    [' 30d ', 2_592_000],
    ['1.5h', 5400], // the server's parser (@pocketenv/config) takes fractions; whole seconds result
  ])('%j → %i s', (text, seconds) => {
    expect(durationSeconds(text)).toBe(seconds);
  });

  it.each(['', 'soon', '0', '0h', '-5m', '2w', '1h30m'])('refuses %j with the accepted forms', (text) => {
    expect(() => durationSeconds(text)).toThrow(InvalidArgumentError);
    expect(() => durationSeconds(text)).toThrow('expected a duration such as 3600, 90m, 12h or 7d.');
  });
});

describe('wholeNumber (--vcpus, --lines, ports) and positiveNumber (--memory, --disk)', () => {
  it('takes digits only for whole numbers', () => {
    expect(wholeNumber('2')).toBe(2);
    expect(wholeNumber(' 8 ')).toBe(8);
    for (const bad of ['', 'two', '1.5', '-1', '1e3']) expect(() => wholeNumber(bad), bad).toThrow('expected a whole number.');
  });

  it('takes fractions above zero for sizes', () => {
    expect(positiveNumber('0.5')).toBe(0.5);
    expect(positiveNumber('3')).toBe(3);
    for (const bad of ['', ' ', '0', '-2', 'lots', 'Infinity']) expect(() => positiveNumber(bad), bad).toThrow('expected a positive number.');
  });
});

describe('toShellCommand (exec)', () => {
  it('hands one argument to the shell as written, and quotes several one by one', () => {
    expect(toShellCommand(['ls | wc -l'])).toBe('ls | wc -l');
    expect(toShellCommand(['--', 'ls', '-la', '/tmp'])).toBe('ls -la /tmp');
    expect(toShellCommand(['sh', '-c', "echo 'a b'; echo c"])).toBe(`sh -c 'echo '\\''a b'\\''; echo c'`);
    expect(toShellCommand(['   '])).toBe('');
  });
});
