/**
 * Names and labels of what the docker provider owns in an engine. Labels, not names, say what
 * is ours: `list` and crash recovery find containers, volumes and the network by label, so an
 * engine shared with other users' containers is never touched beyond them.
 */

/** On every object we create. */
export const LABEL_MANAGED = 'io.pocketenv.managed';
/**
 * Which provider instance (one state dir, so one server) a container belongs to. Several servers
 * may share an engine: each lists, reconciles and deletes only its own sandboxes.
 */
export const LABEL_OWNER = 'io.pocketenv.owner';
/** The sandbox id of a container (`sbx_…`). */
export const LABEL_SANDBOX = 'io.pocketenv.sandbox';
/** The base (template) a container or image was made from. */
export const LABEL_BASE = 'io.pocketenv.base';
/** JSON of the CreateSpec, so a container alone says what it is (hostname, resources). */
export const LABEL_SPEC = 'io.pocketenv.spec';
/** On a docker volume: the host directory it binds. */
export const LABEL_HOST_PATH = 'io.pocketenv.host-path';

const CONTAINER_PREFIX = 'pocketenv-';

export function containerName(id: string): string {
  return CONTAINER_PREFIX + id;
}

/** The committed image that carries a sandbox's files across a re-creation (see lifecycle.ts). */
export function sandboxImageRef(id: string): string {
  return `pocketenv-sandbox:${id}`; // tags allow the id's whole alphabet
}
