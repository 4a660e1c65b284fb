/**
 * Postgres, used when DATABASE_URL is set. `pg` is loaded only then, so SQLite users never
 * pay for it. Queries are written with Kysely's builder and portable column types, so the
 * same repositories run on both.
 */
import { PostgresDialect, type Dialect } from 'kysely';

export async function createPostgresDialect(connectionString: string): Promise<Dialect> {
  const pg = await import('pg');
  const Pool = pg.default?.Pool ?? pg.Pool;
  return new PostgresDialect({ pool: new Pool({ connectionString, max: 10 }) });
}
