/** Embedded SQLite (better-sqlite3) with WAL, so a CLI process can add tokens while the server runs. */
import SqliteDatabase from 'better-sqlite3';
import { SqliteDialect, type Dialect, type SqliteDatabase as KyselySqliteDatabase, type SqliteStatement } from 'kysely';

/** Distinct SQL texts kept prepared; the server issues a few dozen, so this is never reached in practice. */
const STATEMENT_CACHE_SIZE = 256;

export function createSqliteDialect(file: string): Dialect {
  const db = new SqliteDatabase(file);
  db.pragma('journal_mode = WAL');
  // WAL + NORMAL is durable across process crashes (kill -9); only an OS crash may lose
  // the last transactions, which reconciliation then repairs.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // Another process (`pocketenv token create`) may hold the write lock briefly.
  db.pragma('busy_timeout = 5000');
  return new SqliteDialect({ database: withStatementCache(db) });
}

/**
 * Kysely prepares every query anew; compiling the SQL was a visible share of an exec's CPU
 * (every request runs the same handful of statements). Kysely's SQLite driver runs one query
 * at a time on its single connection, so one prepared statement per SQL text is never used
 * by two queries at once.
 */
function withStatementCache(db: SqliteDatabase.Database): KyselySqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => {
      statements.clear();
      db.close();
    },
    prepare(sql: string): SqliteStatement {
      let statement = statements.get(sql);
      if (!statement) {
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
        statement = db.prepare(sql) as unknown as SqliteStatement;
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}
