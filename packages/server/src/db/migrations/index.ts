/**
 * Migrations are listed statically (no directory scan) so they work the same under tsx,
 * a bundler, or a test runner. Append new ones; never rename or edit an applied migration.
 */
import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001_initial';
import * as m0002 from './0002_config_attachments';
import * as m0003 from './0003_volumes_services_ports';
import * as m0004 from './0004_copy_backups';
import * as m0005 from './0005_terminal_tokens_base_installs';
import * as m0006 from './0006_token_expiry';
import * as m0009 from './0009_sandbox_isolation';

const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_config_attachments': m0002,
  '0003_volumes_services_ports': m0003,
  '0004_copy_backups': m0004,
  '0005_terminal_tokens_base_installs': m0005,
  '0006_token_expiry': m0006,
  '0009_sandbox_isolation': m0009,
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
