/** Embedded SQLite (better-sqlite3) with WAL, so a CLI process can add tokens while the server runs. */
import SqliteDatabase from 'better-sqlite3';
import { SqliteDialect, type Dialect } from 'kysely';

export function createSqliteDialect(file: string): Dialect {
  const db = new SqliteDatabase(file);
  db.pragma('journal_mode = WAL');
  // WAL + NORMAL is durable across process crashes (kill -9); only an OS crash may lose
  // the last transactions, which reconciliation then repairs.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // Another process (`pocketenv token create`) may hold the write lock briefly.
  db.pragma('busy_timeout = 5000');
  return new SqliteDialect({ database: db });
}
