/** Local actors get a did:web under the server's host: `did:web:<host>:u:<handle>`. */

/** Lowercase letters, digits, dots and hyphens; starts and ends with a letter or digit. */
const HANDLE = /^[a-z0-9](?:[a-z0-9.-]{0,61}[a-z0-9])?$/;

export function isValidHandle(handle: string): boolean {
  return HANDLE.test(handle) && !handle.includes('..');
}

export function localDid(host: string, handle: string): string {
  // did:web encodes a port's colon as %3A.
  return `did:web:${host.replace(/:/g, '%3A')}:u:${handle}`;
}
