/**
 * Migrations are listed statically (no directory scan) so they work the same under tsx,
 * a bundler, or a test runner. Append new ones; never rename or edit an applied migration.
 */
import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001_initial';

const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
