/** What an interactive terminal runs, and the window sizes it accepts (every provider). */
import { ProviderError } from '../provider/errors';

/** Window sizes beyond this are nonsense (and stty refuses them anyway). */
const MAX_CELLS = 10_000;

/** The login shell: bash when the base has it, else sh. `exec` keeps one pid from start to end. */
export const LOGIN_SHELL = ['/bin/sh', '-c', 'if [ -x /bin/bash ]; then exec /bin/bash -l; fi; exec /bin/sh -l'];

export function checkWindowSize(cols: number, rows: number): void {
  for (const [name, value] of [['cols', cols], ['rows', rows]] as const) {
    if (!Number.isInteger(value) || value < 1 || value > MAX_CELLS) {
      throw new ProviderError(`invalid terminal ${name} ${JSON.stringify(value)}: use a whole number from 1 to ${MAX_CELLS}`);
    }
  }
}
