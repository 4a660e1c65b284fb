/**
 * The server's own cookies. Every cookie the server sets is named `pocketenv_…` (today VS Code's
 * session, `pocketenv_ide`; a dashboard's must follow the same rule), so one test tells ours from
 * an app's: the preview proxy never forwards ours to an app, and never lets an app set one.
 */
export const OUR_COOKIE_PREFIX = 'pocketenv_';

/**
 * Whether a cookie name is one of ours. `__Host-`/`__Secure-` are part of a cookie's name for
 * browsers, and case is ignored: an app's `__Host-Pocketenv_ide` is refused as well.
 */
export function isOurCookieName(name: string): boolean {
  return name
    .trim()
    .replace(/^__(host|secure)-/i, '')
    .toLowerCase()
    .startsWith(OUR_COOKIE_PREFIX);
}

/** The `name=value` pairs of a Cookie header, as they came. */
function cookiePairs(header: string | undefined): Array<{ name: string; pair: string }> {
  return (header ?? '')
    .split(';')
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair) => ({ name: pair.slice(0, Math.max(0, pair.indexOf('='))).trim(), pair }));
}

/** The value of one cookie in a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  const found = cookiePairs(header).find((c) => c.name === name);
  return found ? found.pair.slice(found.pair.indexOf('=') + 1).trim() : undefined;
}

/** A Cookie header without our cookies; undefined when nothing is left. */
export function withoutOurCookies(header: string | undefined): string | undefined {
  const kept = cookiePairs(header).filter((c) => !isOurCookieName(c.name));
  return kept.length > 0 ? kept.map((c) => c.pair).join('; ') : undefined;
}
