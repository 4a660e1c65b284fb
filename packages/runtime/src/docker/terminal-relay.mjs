// The host side of a docker sandbox's terminal (see terminal.ts): run inside a PTY the caller
// owns, it starts a TTY exec the provider created and relays bytes both ways in raw mode, so
// Ctrl+C and friends reach the shell's terminal inside the container. Exits with the shell's
// exit code. Plain JavaScript: it is spawned with `node` alone, without a TypeScript loader.
//
// argv: <connection file> <exec id> <cols> <rows>. The connection file (0600, dockerode options
// as JSON; TLS material may be in it) is read and removed at once.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import Dockerode from 'dockerode';

// Raw mode at once, and with output processing off too: the PTY inside already turns \n into
// \r\n (Node's setRawMode keeps ONLCR, which would double the \r). Echo is the inner PTY's job.
if (process.stdin.isTTY) execFileSync('stty', ['raw', '-echo'], { stdio: ['inherit', 'ignore', 'ignore'] });

const [connectionFile, execId, cols, rows] = process.argv.slice(2);
const options = JSON.parse(readFileSync(connectionFile, 'utf8'));
rmSync(connectionFile, { force: true });
const exec = new Dockerode(options).getExec(execId);

const stream = await exec.start({ hijack: true, stdin: true, Tty: true });
// Docker 20.10's exec start has no initial size: set it before any input reaches the shell.
await exec.resize({ h: Number(rows), w: Number(cols) }).catch(() => undefined);
process.stdin.pipe(stream);
stream.pipe(process.stdout);

let finished = false;
const finish = async () => {
  if (finished) return;
  finished = true;
  let code = 0;
  for (let i = 0; i < 50; i++) {
    const info = await exec.inspect().catch(() => undefined);
    if (!info || !info.Running) {
      code = info?.ExitCode ?? 1;
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  process.exit(code);
};
stream.on('end', finish);
stream.on('close', finish);
stream.on('error', finish);
// The caller's PTY went away (hangup): end our side; the provider's dispose() ends a shell that stays.
process.on('SIGHUP', () => process.exit(129));
process.stdin.on('end', () => stream.end());
