/** Characters a POSIX shell reads literally anywhere in a word. */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * One POSIX shell word for `value`: itself when every character is literal, else single-quoted.
 * @example
 * quote("it's") // 'it'\''s'
 */
export function quote(value: string): string {
  return SAFE_WORD.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
