// One query builder (Kysely), two dialects: embedded SQLite (better-sqlite3) and PostgreSQL (pg).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, sql, PostgresDialect, SqliteDialect, type LogEvent, type SqliteDatabase } from 'kysely';
import pg from 'pg';
import { migrationProvider } from './migrations.js';
import type { Schema } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Database {
  dialect: Dialect;
  /** PostgreSQL's connection URL (for connections of their own: the bus's listener); undefined on SQLite. */
  url: string | undefined;
  db: Kysely<Schema>;
  /**
   * For writes whose loss in a database crash is harmless — replay nonces (a replay must also arrive
   * within the receive window, which a restart outlasts) and last-use stamps: on PostgreSQL their
   * commits do not wait for the WAL to reach the disk. On SQLite it is `db`.
   */
  relaxedDb: Kysely<Schema>;
  /**
   * A number that changes whenever another process commits to the database, or undefined when
   * that cannot be known cheaply (PostgreSQL with many servers): then nothing may be cached.
   */
  externalChangeStamp(): number | undefined;
  /**
   * Locks that one process at a time may hold (a market's engine), for as long as the process keeps
   * them; `onLost` is called if they are lost with their connection.
   */
  openLocks(onLost: () => void): Promise<NamedLocks>;
  /** Whether the database answers a trivial query now. */
  ping(): Promise<boolean>;
  /** How the connection pools are used now (PostgreSQL; none on SQLite). */
  poolUse(): PoolUse[];
  close(): Promise<void>;
}

export interface PoolUse {
  pool: 'main' | 'relaxed';
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

/** Told of every statement and how long it took (metrics); the SQL is a template, its values are not in it. */
export type QueryObserver = (pool: 'main' | 'relaxed', sql: string, milliseconds: number, failed: boolean) => void;

function queryLog(observe: QueryObserver | undefined, pool: 'main' | 'relaxed'): ((event: LogEvent) => void) | undefined {
  // Without an observer Kysely does not time its queries at all.
  if (!observe) return undefined;
  return (event) => observe(pool, event.query.sql, event.queryDurationMillis, event.level === 'error');
}

async function answers(db: Kysely<Schema>): Promise<boolean> {
  try {
    await sql`SELECT 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}

export interface NamedLocks {
  /** true when this process now holds the lock (or already did). */
  tryLock(name: string): Promise<boolean>;
  unlock(name: string): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  dataDir: string;
  databaseUrl?: string | undefined;
  observeQuery?: QueryObserver | undefined;
}

const INT8_OID = 20;

const parseInt8AsNumber = ((oid: number, format: 'text') =>
  oid === INT8_OID ? (value: string) => Number(value) : (pg.types.getTypeParser(oid, format) as unknown)) as typeof pg.types.getTypeParser;

const POOL_MAX = 10;
const RELAXED_POOL_MAX = 4;

function openPostgres(url: string, observeQuery: QueryObserver | undefined): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: POOL_MAX,
    // bigint columns hold epoch milliseconds, well inside Number's exact range.
    types: { getTypeParser: parseInt8AsNumber },
  });
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }), log: queryLog(observeQuery, 'main') });
  const relaxedPool = new pg.Pool({ connectionString: url, max: RELAXED_POOL_MAX, types: { getTypeParser: parseInt8AsNumber }, options: '-c synchronous_commit=off' });
  const relaxedDb = new Kysely<Schema>({ dialect: new PostgresDialect({ pool: relaxedPool }), log: queryLog(observeQuery, 'relaxed') });
  // An idle connection that the server drops (a restart, an administrator) must not crash the
  // process: the pool opens a new one when it is next needed.
  const ignoreIdleError = () => undefined;
  pool.on('error', ignoreIdleError);
  relaxedPool.on('error', ignoreIdleError);
  // Session-level advisory locks live as long as the connection that took them: one of its own per
  // process, outside the pool. When it breaks, PostgreSQL has released them and another server may
  // take them; a killed process's connection closes with it.
  const holders: pg.Client[] = [];
  return {
    dialect: 'postgres',
    url,
    db,
    relaxedDb,
    externalChangeStamp: () => undefined,
    ping: () => answers(db),
    poolUse: () => [
      { pool: 'main', total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: POOL_MAX },
      { pool: 'relaxed', total: relaxedPool.totalCount, idle: relaxedPool.idleCount, waiting: relaxedPool.waitingCount, max: RELAXED_POOL_MAX },
    ],
    async openLocks(onLost) {
      // PostgreSQL releases the locks when it sees the connection die: at once for a killed process,
      // and within about 10 s (these keepalives) for a machine that vanished from the network.
      const client = new pg.Client({ connectionString: url, keepAlive: true, options: '-c tcp_keepalives_idle=4 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=2' });
      let lost = false;
      const lose = () => {
        if (lost) return;
        lost = true;
        onLost();
      };
      client.on('error', lose);
      client.on('end', lose);
      await client.connect();
      holders.push(client);
      const held = new Set<string>();
      return {
        async tryLock(name) {
          if (lost) return false;
          if (held.has(name)) return true;
          const { rows } = await client.query<{ held: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS held', [`keygate:${name}`]);
          if (rows[0]?.held) held.add(name);
          return held.has(name);
        },
        async unlock(name) {
          if (!held.delete(name) || lost) return;
          await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`keygate:${name}`]);
        },
        async close() {
          lost = true;
          held.clear();
          holders.splice(holders.indexOf(client), 1);
          await client.end().catch(() => undefined);
        },
      };
    },
    async close() {
      for (const client of holders.splice(0)) await client.end().catch(() => undefined);
      await relaxedDb.destroy();
      await db.destroy();
    },
  };
}

const STATEMENT_CACHE_LIMIT = 1000;

/**
 * Kysely prepares every query anew; preparing costs more than running a small query, so prepared
 * statements are kept by their SQL text (Kysely's SQL for a query shape is always the same text).
 */
function withStatementCache(handle: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => handle.close(),
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (!statement) {
        if (cache.size >= STATEMENT_CACHE_LIMIT) cache.clear();
        statement = handle.prepare(sql);
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

function openSqlite(dataDir: string, observeQuery: QueryObserver | undefined): Database {
  mkdirSync(dataDir, { recursive: true });
  const handle = new BetterSqlite3(join(dataDir, 'keygate.sqlite'));
  // WAL lets the CLI write while the server reads; synchronous=FULL makes every commit durable
  // before it is acknowledged (an acknowledged write survives a crash or power loss).
  handle.pragma('journal_mode = WAL');
  handle.pragma('synchronous = FULL');
  handle.pragma('foreign_keys = ON');
  handle.pragma('busy_timeout = 5000');
  const dataVersion = handle.prepare('PRAGMA data_version').pluck();
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: withStatementCache(handle) }), log: queryLog(observeQuery, 'main') });
  return {
    dialect: 'sqlite',
    url: undefined,
    db,
    relaxedDb: db,
    externalChangeStamp: () => dataVersion.get() as number,
    ping: () => answers(db),
    poolUse: () => [],
    // A SQLite file serves one server, which holds every market; the CLI runs no engine.
    openLocks: async () => ({ tryLock: async () => true, unlock: async () => undefined, close: async () => undefined }),
    close: () => db.destroy(),
  };
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const database = options.databaseUrl ? openPostgres(options.databaseUrl, options.observeQuery) : openSqlite(options.dataDir, options.observeQuery);
  const migrator = new Migrator({ db: database.db, provider: migrationProvider(database.dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    await database.close();
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`Database migration ${failed ?? ''} failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`);
  }
  return database;
}
