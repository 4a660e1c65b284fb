/**
 * io.pocketenv.sandbox.exec. Output is returned as UTF-8 text: bytes that are not valid
 * UTF-8 become U+FFFD. Each stream is capped by the provider (1 MiB); `truncated` says so.
 */
import type { Response } from 'express';
import type { Server } from '@atproto/xrpc-server';
import type { AppContext } from '../context';
import { InvalidInputError } from '../errors';
import { authedMethod } from './method';
import { ownedSandbox } from './lookup';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Fires when the client goes away before its answer was sent (its connection closed): the
 * command is then killed and its exec slot given back, instead of running for nobody.
 */
function abortedByClient(res: Response): AbortSignal {
  const ac = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) ac.abort();
  });
  return ac.signal;
}

export function registerExecMethod(server: Server, ctx: AppContext): void {
  authedMethod(server, ctx, 'io.pocketenv.sandbox.exec', async ({ actor, params, input, res }) => {
    const record = await ownedSandbox(ctx, actor, params.id);
    const env: Record<string, string> = {};
    input.env?.forEach((v, i) => {
      if (!ENV_NAME.test(v.name)) throw new InvalidInputError(`env[${i}].name`, `${JSON.stringify(v.name)} is not a valid variable name`);
      if (v.value.includes('\0')) throw new InvalidInputError(`env[${i}].value`, 'must not contain a NUL character');
      env[v.name] = v.value;
    });
    const result = await ctx.orchestrator.exec(
      record,
      {
        command: input.command,
        timeoutMs: input.timeoutMs,
        cwd: input.cwd,
        env: input.env ? env : undefined,
      },
      abortedByClient(res),
    );
    const out = {
      stdout: result.stdout.toString('utf8'),
      stderr: result.stderr.toString('utf8'),
      exitCode: result.exitCode,
    };
    return { ...out, ...(result.truncated ? { truncated: true } : {}), ...(result.timedOut ? { timedOut: true } : {}) };
  });
}
