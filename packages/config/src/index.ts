/**
 * @module @pocketenv/config
 * The parsers every Pocketenv setting goes through, shared by the server and the CLI so a
 * duration or a size means the same in both. Entry points read the environment once and
 * build their configuration with {@link Settings}; nothing here reads `process.env`.
 */
export { ConfigError } from './errors';
export {
  parseBoolean,
  parseByteSize,
  parseChoice,
  parseDuration,
  parseInteger,
  parseList,
  parseNumber,
  parseUrl,
  type DurationOptions,
  type NumberBounds,
} from './parsers';
export { Settings, settingsFrom, type Env } from './settings';
