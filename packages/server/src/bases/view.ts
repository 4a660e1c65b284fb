/** How describeServer shows builds: per base, and per shared tool (code-server). */
import { isCodeServerBuilt, type BaseInfo } from '@pocketenv/runtime';
import type { ServerDescribeServer } from '@pocketenv/lexicons';
import { CODE_SERVER_BUILD } from '../config';
import type { BuildQueue, BuildState } from './builds';
import { baseBuildKey, CODE_SERVER_KEY } from './jobs';

type BuildFields = Pick<ServerDescribeServer.BaseInfo, 'status' | 'progress' | 'readyInSeconds' | 'error'>;

/** A base's build fields: the queue's view when it has one, else what is on disk. */
export function buildView(builds: BuildQueue, provider: string, base: BaseInfo): BuildFields {
  // On disk wins for `ready`: the queue may not know of a build another process finished.
  if (base.ready) return { status: 'ready' };
  return fields(builds.state(baseBuildKey(provider, base.name)));
}

/** `toolsDir`: the configured shared tools dir (POCKETENV_TOOLS_DIR). */
export function toolViews(builds: BuildQueue, toolsDir: string): ServerDescribeServer.ToolInfo[] {
  if (isCodeServerBuilt(toolsDir)) return [{ name: CODE_SERVER_BUILD, status: 'ready' }];
  return [{ name: CODE_SERVER_BUILD, ...fields(builds.state(CODE_SERVER_KEY)) }];
}

/** The build fields of something not on disk (the queue's `ready` would be stale: it was removed since). */
function fields(state: BuildState | undefined): BuildFields & { status: string } {
  if (!state || state.status === 'ready') return { status: 'notBuilt' };
  return {
    status: state.status,
    ...(state.progress !== undefined ? { progress: state.progress } : {}),
    ...(state.readyInSeconds !== undefined ? { readyInSeconds: state.readyInSeconds } : {}),
    ...(state.error !== undefined ? { error: state.error.slice(0, 2000) } : {}),
  };
}
