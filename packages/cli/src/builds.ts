/**
 * Builds on the server (base images, code-server) as describeServer reports them: their text
 * for `pocketenv bases`, and the wait `create` and `vscode` do while one is still building.
 */
import { ApiError, type Client, pocketenv, type ServerDescription } from '@pocketenv/sdk';
import type { CliContext } from './context';
import { CLIError, ExitCode } from './errors';
import { humanDuration } from './output/time';

/** The build fields describeServer gives a base (baseDetails) or a tool (tools). */
export interface BuildInfo {
  status?: string;
  progress?: number;
  readyInSeconds?: number;
  error?: string;
}

/** How often a wait asks the server again. */
const POLL_MS = 2_000;

/** "building 45 %, about a minute left", "queued, about 5 minutes left", "ready". */
export function buildText(info: BuildInfo): string {
  const left = info.readyInSeconds !== undefined ? `about ${humanDuration(info.readyInSeconds * 1000)} left` : undefined;
  switch (info.status) {
    case 'building':
      return [`building${info.progress !== undefined ? ` ${info.progress} %` : ''}`, left].filter(Boolean).join(', ');
    case 'queued':
      return ['queued', left].filter(Boolean).join(', ');
    case 'failed':
      return `failed: ${info.error ?? 'unknown error'}`;
    case 'notBuilt':
      return 'not built (the first use builds it)';
    default:
      return info.status ?? 'ready';
  }
}

export const isPending = (info: BuildInfo | undefined): info is BuildInfo => info?.status === 'building' || info?.status === 'queued';

/** 503 NotReady: what the request needs is still being built on the server. */
export const isNotReady = (error: unknown): error is ApiError => error instanceof ApiError && error.status === 503 && error.error === 'NotReady';

export const baseBuild = (d: ServerDescription, base: string): BuildInfo | undefined => d.baseDetails?.find((b) => b.name === base);
export const toolBuild = (d: ServerDescription, tool: string): BuildInfo | undefined => d.tools?.find((t) => t.name === tool);

/** The build of `find` as the server sees it now; undefined when the server does not say (older or hosted servers). */
export async function currentBuild(client: Client, find: (d: ServerDescription) => BuildInfo | undefined): Promise<BuildInfo | undefined> {
  try {
    return find(await pocketenv.describeServer(client));
  } catch {
    return undefined;
  }
}

/**
 * Runs `work` under a spinner whose label follows the server's build of `find` (asked every
 * two seconds) while it is pending; the label is `label` once it is done.
 */
export async function spinWithBuild<T>(
  ctx: CliContext,
  client: Client,
  label: string,
  what: string,
  find: (d: ServerDescription) => BuildInfo | undefined,
  work: () => Promise<T>,
): Promise<T> {
  let text = label;
  let stopped = false;
  const poll = async () => {
    while (!stopped) {
      const info = await currentBuild(client, find);
      text = isPending(info) ? `${what}: ${buildText(info)}` : label;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS).unref());
    }
  };
  // Only a terminal shows the label; elsewhere the server is not asked again.
  const polling = ctx.stderr.isTTY ? poll() : undefined;
  try {
    return await ctx.spin(() => text, work);
  } finally {
    stopped = true;
    void polling;
  }
}

/** Waits (with a spinner showing progress) until the build of `find` is no longer pending; throws if it failed. */
export async function waitForBuild(ctx: CliContext, client: Client, what: string, find: (d: ServerDescription) => BuildInfo | undefined): Promise<void> {
  let info = await currentBuild(client, find);
  let text = `${what}: ${info ? buildText(info) : 'building'}`;
  await ctx.spin(
    () => text,
    async () => {
      while (isPending(info)) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        info = await currentBuild(client, find);
        if (info) text = `${what}: ${buildText(info)}`;
      }
    },
  );
  if (info?.status === 'failed') throw new CLIError(`${what} failed to build on the server: ${info.error ?? 'unknown error'}`, ExitCode.PROVIDER);
}
