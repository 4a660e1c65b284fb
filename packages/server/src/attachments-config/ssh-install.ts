/**
 * Installing the sandbox's SSH key pair for its root user: the private key (0600) and the
 * public key under /root/.ssh, named after the key's type (id_ed25519 for Ed25519 keys), and
 * the known git hosts merged into /root/.ssh/known_hosts (lines already there are kept, so
 * hosts the user accepted survive restarts).
 */
import type { FileToWrite, Provider } from '@pocketenv/runtime';
import { InvalidInputError, ProviderFailureError } from '../errors';
import { KNOWN_HOSTS } from './known-hosts';

const SSH_DIR = '/root/.ssh';

/** OpenSSH's default identity file for each public key type. */
const IDENTITY_FILES: Record<string, string> = {
  'ssh-ed25519': 'id_ed25519',
  'ssh-rsa': 'id_rsa',
  'ecdsa-sha2-nistp256': 'id_ecdsa',
  'ecdsa-sha2-nistp384': 'id_ecdsa',
  'ecdsa-sha2-nistp521': 'id_ecdsa',
  'sk-ssh-ed25519@openssh.com': 'id_ed25519_sk',
  'sk-ecdsa-sha2-nistp256@openssh.com': 'id_ecdsa_sk',
};

/** One OpenSSH public key line: `<type> <base64> [comment]`. */
const PUBLIC_KEY_LINE = /^([a-z0-9@.-]+) ([A-Za-z0-9+/]+={0,2})( [^\r\n]*)?$/;

export function checkPublicKey(field: string, publicKey: string): string {
  const line = publicKey.trim();
  const match = PUBLIC_KEY_LINE.exec(line);
  if (!match || !(match[1]! in IDENTITY_FILES)) {
    throw new InvalidInputError(field, `is not an OpenSSH public key line (one of ${Object.keys(IDENTITY_FILES).join(', ')}, then the key in base64)`);
  }
  return line;
}

export function checkPrivateKey(field: string, privateKey: string): void {
  if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]+-----END [A-Z0-9 ]*PRIVATE KEY-----/.test(privateKey)) {
    throw new InvalidInputError(field, 'the sealed value is not a PEM private key (-----BEGIN … PRIVATE KEY----- … -----END … PRIVATE KEY-----)');
  }
}

export function identityFileFor(publicKey: string): string {
  return `${SSH_DIR}/${IDENTITY_FILES[publicKey.split(' ')[0]!] ?? 'id_ed25519'}`;
}

export function sshKeyFiles(privateKey: string, publicKey: string): FileToWrite[] {
  const identity = identityFileFor(publicKey);
  // OpenSSH refuses a private key file without its final newline.
  const withNewline = (text: string) => (text.endsWith('\n') ? text : `${text}\n`);
  return [
    { path: identity, content: Buffer.from(withNewline(privateKey.replace(/\r\n/g, '\n'))), mode: 0o600 },
    { path: `${identity}.pub`, content: Buffer.from(withNewline(publicKey)), mode: 0o644 },
  ];
}

/** Runs in the sandbox as root; the host lines come in through the environment, one per line. */
const MERGE_KNOWN_HOSTS = [
  'set -e',
  `mkdir -p ${SSH_DIR}`,
  `chmod 700 ${SSH_DIR}`,
  `f=${SSH_DIR}/known_hosts`,
  'touch "$f"',
  'printf "%s\\n" "$POCKETENV_KNOWN_HOSTS" | while IFS= read -r line; do',
  '  [ -n "$line" ] || continue',
  '  grep -qxF -- "$line" "$f" || printf "%s\\n" "$line" >> "$f"',
  'done',
  'chmod 644 "$f"',
].join('\n');

/** Makes ~/.ssh private (0700) and adds the known git hosts to its known_hosts. */
export async function finishSshSetup(provider: Provider, sandboxId: string): Promise<void> {
  const result = await provider.exec(sandboxId, MERGE_KNOWN_HOSTS, {
    cwd: '/',
    env: { POCKETENV_KNOWN_HOSTS: KNOWN_HOSTS.join('\n') },
    timeoutMs: 30_000,
  });
  if (result.exitCode !== 0) {
    throw new ProviderFailureError(`could not set up ${SSH_DIR}/known_hosts (exit ${result.exitCode}): ${result.stderr.toString('utf8').trim().slice(0, 500)}`);
  }
}
