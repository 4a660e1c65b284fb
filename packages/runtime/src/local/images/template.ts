/**
 * Base image templates: one small JSON file per base in `packages/runtime/templates/`,
 * so adding a base is adding one file.
 *
 * Two kinds:
 *  - a ROOT template (no `from`) is built from scratch by mmdebstrap:
 *      { "name": "debian", "description": "…", "suite": "bookworm", "packages": ["git", …] }
 *  - a DERIVED template (`from`) is built as a layer over its parent:
 *      { "name": "node", "from": "debian", "description": "…",
 *        "packages": [apt…], "run": ["shell command", …], "npm": ["pkg@1", …] }
 *    Steps run in that order, as root inside the parent image (user-namespaced,
 *    host network, host CA bundle mounted): apt-get install `packages`, each `run`
 *    line with `sh -euc`, then `npm install -g` of `npm`.
 *
 * The build identity of a template is a hash over its canonical JSON, the builder
 * recipe version and the parent's identity; a change to any of them means a rebuild.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { packageDirOf } from '../../package-dir';

export interface Template {
  name: string;
  description: string;
  /** Parent base; absent for a root image built by mmdebstrap. */
  from?: string;
  /** Root only: Debian suite (default `bookworm`). */
  suite?: string;
  /** Root only: mmdebstrap variant (default `apt`, which brings apt and the `_apt` user). */
  variant?: 'apt' | 'essential' | 'required' | 'minbase' | 'important';
  /** Root only: apt source lines (default: deb.debian.org main, updates and security for `suite`). */
  mirrors?: string[];
  /** Debian packages to install (without recommends). */
  packages?: string[];
  /** Derived only: shell commands run as root inside the image, in order. */
  run?: string[];
  /** Derived only: npm packages installed globally (needs node in the parent chain or in `run`). */
  npm?: string[];
}

/**
 * Bump when the build recipe in code changes in a way that changes the images
 * (excluded paths, post-processing…), so existing caches are rebuilt.
 */
export const RECIPE_VERSION = 2;

export const DEFAULT_TEMPLATE_DIR = join(packageDirOf(import.meta.url), 'templates');

const NAME = /^[a-z][a-z0-9-]{0,30}$/;
// Debian package names and npm specs (with optional scope and version); nothing a shell would interpret.
const APT_PACKAGE = /^[a-z0-9][a-z0-9+.-]*(=[A-Za-z0-9.+~:-]+)?$/;
const NPM_SPEC = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*(@[A-Za-z0-9._^~<>=|*+-]+)?$/;
const VARIANTS = ['apt', 'essential', 'required', 'minbase', 'important'];

export class TemplateError extends Error {
  override name = 'TemplateError';
}

/** Reads and validates every `*.json` in `dir`; the file name must match the template name. */
export function loadTemplates(dir: string): Map<string, Template> {
  const templates = new Map<string, Template>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const path = join(dir, file);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new TemplateError(`${path}: invalid JSON: ${(err as Error).message}`);
    }
    const template = validateTemplate(raw, path);
    if (`${template.name}.json` !== file) {
      throw new TemplateError(`${path}: name "${template.name}" must match the file name`);
    }
    templates.set(template.name, template);
  }
  for (const template of templates.values()) checkParents(template, templates);
  return templates;
}

export function validateTemplate(raw: unknown, where: string): Template {
  const fail = (msg: string): never => {
    throw new TemplateError(`${where}: ${msg}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('must be a JSON object');
  const t = raw as Record<string, unknown>;
  const known = ['name', 'description', 'from', 'suite', 'variant', 'mirrors', 'packages', 'run', 'npm'];
  for (const key of Object.keys(t)) if (!known.includes(key)) fail(`unknown field "${key}" (known: ${known.join(', ')})`);
  if (typeof t.name !== 'string' || !NAME.test(t.name)) fail('"name" must match ' + NAME);
  if (typeof t.description !== 'string' || !t.description) fail('"description" is required');
  const strings = (key: string, pattern?: RegExp): void => {
    const v = t[key];
    if (v === undefined) return;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !x)) fail(`"${key}" must be an array of non-empty strings`);
    if (pattern) for (const x of v as string[]) if (!pattern.test(x)) fail(`"${key}": invalid entry ${JSON.stringify(x)}`);
  };
  strings('packages', APT_PACKAGE);
  strings('npm', NPM_SPEC);
  strings('run');
  strings('mirrors');
  if (t.from !== undefined) {
    if (typeof t.from !== 'string' || !NAME.test(t.from)) fail('"from" must name another template');
    for (const key of ['suite', 'variant', 'mirrors']) if (t[key] !== undefined) fail(`"${key}" only applies to root templates (without "from")`);
  } else {
    if (t.run !== undefined || t.npm !== undefined) fail('"run" and "npm" need a parent ("from"); a root image only takes "packages"');
    if (t.suite !== undefined && (typeof t.suite !== 'string' || !/^[a-z-]+$/.test(t.suite))) fail('"suite" must be a Debian suite name');
    if (t.variant !== undefined && !VARIANTS.includes(t.variant as string)) fail(`"variant" must be one of ${VARIANTS.join(', ')}`);
  }
  return t as unknown as Template;
}

function checkParents(template: Template, all: Map<string, Template>): void {
  const seen = new Set<string>([template.name]);
  let current = template;
  while (current.from) {
    const parent = all.get(current.from);
    if (!parent) throw new TemplateError(`template "${current.name}": parent "${current.from}" does not exist`);
    if (seen.has(parent.name)) throw new TemplateError(`template "${template.name}": "from" chain loops through "${parent.name}"`);
    seen.add(parent.name);
    current = parent;
  }
}

/** The chain from the template itself up to its root: [self, parent, …, root]. */
export function chainOf(name: string, all: Map<string, Template>): Template[] {
  const chain: Template[] = [];
  for (let t = all.get(name); t; t = t.from ? all.get(t.from) : undefined) chain.push(t);
  return chain;
}

/** Build identity: hash of the template, the recipe and (recursively) the parent's identity. */
export function templateHash(name: string, all: Map<string, Template>): string {
  const template = all.get(name);
  if (!template) throw new TemplateError(`unknown template "${name}"`);
  const parentHash = template.from ? templateHash(template.from, all) : '';
  return createHash('sha256')
    .update(JSON.stringify({ recipe: RECIPE_VERSION, parent: parentHash, template: canonical(template) }))
    .digest('hex')
    .slice(0, 16);
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as object)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
