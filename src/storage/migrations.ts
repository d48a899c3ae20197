// Migrations are code, run on start, in order. Each takes the dialect because identity columns differ.
import { type Kysely, type Migration, type MigrationProvider, type CreateTableBuilder } from 'kysely';
import type { Dialect } from './database.js';

type Builder = CreateTableBuilder<string, never>;

function withId(table: Builder, dialect: Dialect): Builder {
  return dialect === 'postgres'
    ? table.addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}

function migrations(dialect: Dialect): Record<string, Migration> {
  return {
    '0001_core': {
      async up(db: Kysely<unknown>) {
        await withId(db.schema.createTable('users') as Builder, dialect)
          .addColumn('uid', 'text', (c) => c.notNull().unique())
          .addColumn('email', 'text', (c) => c.notNull().unique())
          .addColumn('password_hash', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();

        await withId(db.schema.createTable('api_keys') as Builder, dialect)
          .addColumn('api_key', 'text', (c) => c.notNull().unique())
          .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('method', 'text', (c) => c.notNull())
          .addColumn('ips', 'text', (c) => c.notNull())
          .addColumn('authority', 'text', (c) => c.notNull())
          .addColumn('secret_sealed', 'text')
          .addColumn('public_key', 'text')
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addColumn('last_used_at', 'bigint')
          .addColumn('last_used_ip', 'text')
          .execute();
        await db.schema.createIndex('api_keys_user').on('api_keys').columns(['user_id', 'status']).execute();

        await db.schema
          .createTable('balances')
          .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
          .addColumn('asset', 'text', (c) => c.notNull())
          .addColumn('available', 'text', (c) => c.notNull())
          .addColumn('frozen', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('balances_pk', ['user_id', 'asset'])
          .execute();

        await withId(db.schema.createTable('ledger_entries') as Builder, dialect)
          .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
          .addColumn('asset', 'text', (c) => c.notNull())
          .addColumn('available_delta', 'text', (c) => c.notNull())
          .addColumn('frozen_delta', 'text', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('ref_type', 'text')
          .addColumn('ref_id', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('ledger_entries_user').on('ledger_entries').columns(['user_id', 'asset', 'id']).execute();

        await withId(db.schema.createTable('deposits') as Builder, dialect)
          .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
          .addColumn('asset', 'text', (c) => c.notNull())
          .addColumn('network', 'text', (c) => c.notNull())
          .addColumn('amount', 'text', (c) => c.notNull())
          .addColumn('address', 'text', (c) => c.notNull())
          .addColumn('txid', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('deposits_user').on('deposits').columns(['user_id', 'created_at']).execute();

        await db.schema
          .createTable('replay_nonces')
          .addColumn('api_key', 'text', (c) => c.notNull())
          .addColumn('echostr', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('replay_nonces_pk', ['api_key', 'echostr'])
          .execute();
        await db.schema.createIndex('replay_nonces_expiry').on('replay_nonces').column('expires_at').execute();
      },
    },
  };
}

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return { getMigrations: async () => migrations(dialect) };
}
