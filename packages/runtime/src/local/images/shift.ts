/**
 * Shifts a freshly built rootfs from host uid 0.. to the sandbox user-namespace
 * range (UID_BASE..UID_BASE+UID_COUNT), so that root inside the sandbox owns it.
 *
 * We use systemd-nspawn's own shifter (`--private-users-ownership=chown`) rather
 * than a Node lchown walk: it restores the setuid/setgid bits that chown(2) clears
 * (sudo needs them), remaps POSIX ACLs, and takes well under a second for the
 * Debian base. The container it starts only runs `true`, with every nspawn
 * feature that would write into the tree (resolv.conf, timezone, journal) off.
 *
 * chown(2) also drops file capabilities (security.capability), e.g. ping's
 * cap_net_raw, and nspawn does not restore them: we record them with getcap before
 * and set them again after. Capabilities set from the initial namespace (v2 xattrs)
 * are honoured inside any user namespace.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runCommand } from './run';

const exec = promisify(execFile);

export const UID_BASE = 131072;
export const UID_COUNT = 65536;

export function nspawnBaseArgs(rootfs: string): string[] {
  return [
    '--quiet',
    `--directory=${rootfs}`,
    '--register=no',
    '--keep-unit',
    '--console=pipe',
    '--timezone=off',
    '--link-journal=no',
    `--private-users=${UID_BASE}:${UID_COUNT}`,
  ];
}

/** Files with capabilities under `rootfs`: [path, caps] pairs as printed by `getcap -r`. */
export async function fileCapabilities(rootfs: string): Promise<Array<[string, string]>> {
  const { stdout } = await exec('getcap', ['-r', rootfs], { maxBuffer: 16 * 1024 * 1024 });
  return stdout
    .split('\n')
    .map((line) => /^(\/\S+)\s+(?:= )?(\S+)$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => [m[1]!, m[2]!]);
}

export async function shiftOwnership(rootfs: string, onLine?: (line: string) => void): Promise<void> {
  const caps = await fileCapabilities(rootfs);
  await runCommand(
    'systemd-nspawn',
    [...nspawnBaseArgs(rootfs), '--private-users-ownership=chown', '--resolv-conf=off', '/bin/true'],
    { onLine },
  );
  for (const [path, cap] of caps) {
    await exec('setcap', [cap, path]);
    onLine?.(`restored capability ${cap} on ${path.slice(rootfs.length)}`);
  }
}
