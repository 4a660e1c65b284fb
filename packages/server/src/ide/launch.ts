/**
 * Starting code-server inside a running sandbox, from the shared tools mount, unless it already
 * answers on its port. It runs detached (its own session) so it outlives the exec that started
 * it, as the sandbox's root, in /workspace, with `--auth none`: the server's gate (gate.ts) is
 * what keeps others out. Its log is /tmp/pocketenv-code-server.log inside the sandbox.
 */
import type { CodeServerTool } from '@pocketenv/runtime';
import type { AppContext } from '../context';
import type { SandboxRecord } from '../db/schema';
import { InvalidStateError, ProviderFailureError } from '../errors';

const LOG = '/tmp/pocketenv-code-server.log';
/** How long code-server may take to start listening (first start writes its config and extensions dir). */
const START_TIMEOUT_S = 90;

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** A shell check, using the tool's own node (bases need not have curl or bash): does anything answer on the port? */
function answers(tool: CodeServerTool, port: number): string {
  const probe = `require('net').connect(${port},'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))`;
  return `${quote(tool.node)} -e ${quote(probe)}`;
}

export async function startCodeServer(ctx: AppContext, record: SandboxRecord, tool: CodeServerTool, port: number): Promise<void> {
  const args = [
    tool.node,
    tool.entry,
    '--bind-addr', `0.0.0.0:${port}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '/workspace',
  ].map(quote);
  const script = [
    `if [ ! -x ${quote(tool.node)} ]; then echo "pocketenv: no shared tools mount" >&2; exit 64; fi`,
    `if ${answers(tool, port)}; then exit 0; fi`,
    `setsid nohup ${args.join(' ')} > ${LOG} 2>&1 < /dev/null &`,
    `i=0; until ${answers(tool, port)}; do`,
    `  i=$((i+1)); if [ "$i" -gt ${START_TIMEOUT_S * 4} ]; then echo "code-server did not start listening:" >&2; tail -n 20 ${LOG} >&2; exit 65; fi`,
    '  sleep 0.25',
    'done',
  ].join('\n');
  const result = await ctx.orchestrator.exec(record, { command: script, cwd: '/', timeoutMs: (START_TIMEOUT_S + 30) * 1000 });
  if (result.exitCode === 64) {
    throw new InvalidStateError(
      `sandbox ${record.name} was booted without the shared tools mount (by an older pocketenv); restart it (pocketenv stop ${record.name} && pocketenv start ${record.name}) and try again`,
    );
  }
  if (result.exitCode !== 0) {
    throw new ProviderFailureError(`code-server did not start in sandbox ${record.name}: ${result.stderr.toString('utf8').trim().slice(-1500) || `exit ${result.exitCode}`}`);
  }
}
