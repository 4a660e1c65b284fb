/** The wire's SandboxView (camelCase, optional fields omitted rather than null). */
import type { SandboxRecord, SandboxStatus } from '../db/schema';

export interface SandboxView {
  id: string;
  name: string;
  provider: string;
  baseSandbox: string;
  displayName?: string;
  description?: string;
  topics?: string[];
  logo?: string;
  readme?: string;
  repo?: string;
  vcpus: number;
  memory: number;
  disk: number;
  installs: number;
  status: SandboxStatus;
  /** Why the sandbox is in ERROR. */
  error?: string;
  keepAlive: boolean;
  /** `standard` | `gvisor` (our addition). */
  isolation: string;
  startedAt?: string;
  createdAt: string;
}

export function toSandboxView(r: SandboxRecord): SandboxView {
  const view: SandboxView = {
    id: r.id,
    name: r.name,
    provider: r.provider,
    baseSandbox: r.base,
    vcpus: r.vcpus,
    memory: r.memory,
    disk: r.disk,
    installs: r.installs,
    status: r.status,
    keepAlive: r.keep_alive === 1,
    isolation: r.isolation,
    createdAt: r.created_at,
  };
  if (r.display_name) view.displayName = r.display_name;
  if (r.description) view.description = r.description;
  const topics = parseTopics(r.topics);
  if (topics) view.topics = topics;
  if (r.logo) view.logo = r.logo;
  if (r.readme) view.readme = r.readme;
  if (r.repo) view.repo = r.repo;
  if (r.status === 'ERROR' && r.error) view.error = r.error;
  if (r.started_at) view.startedAt = r.started_at;
  return view;
}

export function parseTopics(json: string | null): string[] | undefined {
  if (!json) return undefined;
  const parsed: unknown = JSON.parse(json);
  return Array.isArray(parsed) ? parsed.filter((t): t is string => typeof t === 'string') : undefined;
}
