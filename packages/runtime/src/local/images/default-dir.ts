/**
 * Where the machine-wide base image cache lives unless the caller says otherwise. The runtime
 * reads no environment: the server and the CLI resolve POCKETENV_IMAGE_DIR and pass it in.
 */
export const DEFAULT_IMAGE_DIR = '/var/cache/pocketenv/images';
