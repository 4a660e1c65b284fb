/**
 * A setting with a value that cannot be used. The message names the setting and says what it
 * expects, so an operator can fix it without reading code; `pocketenv serve` exits 2 on it.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    /** The variable or option the bad value came from, e.g. `POCKETENV_COPY_TTL`. */
    readonly variable: string,
    /** What was wrong and what to use instead. */
    readonly problem: string,
  ) {
    super(`${variable}: ${problem}`);
  }
}
