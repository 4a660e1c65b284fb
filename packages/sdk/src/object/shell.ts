/**
 * The command line `sb.sh` runs. A plain string runs as written. In a tagged template each
 * interpolated value is ONE shell word: quoted unless it is made only of characters the shell
 * reads literally, so `sh\`ls -la ${dir}\`` runs `ls -la /home/user` and a value like
 * `"x; rm -rf ~"` stays a harmless argument (the official SDK pastes values in unquoted, which
 * lets them inject shell code). An array becomes several words. To build shell code from
 * values on purpose, pass a plain string: `sb.sh(\`ls | ${filter}\`)` (no tag).
 * @module
 */
import { RequestBuildError } from '../errors';
import { quote } from '../shell-quote';

/** The command line of a `sh` call (tagged template or plain string). */
export function shellCommand(strings: TemplateStringsArray | string, values: readonly unknown[]): string {
  if (typeof strings === 'string') return strings;
  let command = strings[0] ?? '';
  values.forEach((value, i) => {
    command += words(value, i) + (strings[i + 1] ?? '');
  });
  return command;
}

function words(value: unknown, index: number): string {
  if (Array.isArray(value)) return value.map((item) => words(item, index)).join(' ');
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return quote(String(value));
  throw new RequestBuildError(
    `sh: value #${index + 1} of the template is ${value === null ? 'null' : typeof value}; interpolate strings, numbers, booleans or arrays of them`,
  );
}
