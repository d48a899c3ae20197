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
    '0002_accounts': {
      async up(db: Kysely<unknown>) {
        // Portal sessions: the id is looked up, the secret's SHA-256 digest compared.
        await db.schema
          .createTable('sessions')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
          .addColumn('secret_hash', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .addColumn('ip', 'text')
          .execute();
        await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();
        await db.schema.createIndex('sessions_expiry').on('sessions').column('expires_at').execute();

        // The live email code of each (address, purpose); a new one replaces the old.
        await withId(db.schema.createTable('email_codes') as Builder, dialect)
          .addColumn('email', 'text', (c) => c.notNull())
          .addColumn('purpose', 'text', (c) => c.notNull())
          .addColumn('code_hash', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .addColumn('wrong_tries', 'integer', (c) => c.notNull().defaultTo(0))
          .addUniqueConstraint('email_codes_email_purpose', ['email', 'purpose'])
          .execute();

        // Google Authenticator: the seed sealed by the SecretBox; bound_at is null until confirmed.
        await db.schema
          .createTable('authenticators')
          .addColumn('user_id', 'integer', (c) => c.primaryKey().references('users.id'))
          .addColumn('seed_sealed', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('bound_at', 'bigint')
          .addColumn('last_used_step', 'bigint')
          .execute();

        await db.schema
          .createTable('throttle_counters')
          .addColumn('scope', 'text', (c) => c.notNull())
          .addColumn('subject', 'text', (c) => c.notNull())
          .addColumn('window_start', 'bigint', (c) => c.notNull())
          .addColumn('count', 'integer', (c) => c.notNull())
          .addPrimaryKeyConstraint('throttle_counters_pk', ['scope', 'subject'])
          .execute();

        // One row per event; signed-API rejections are one row per key, minute and reason, whose
        // bucket makes repeated flushes add to the same row.
        await withId(db.schema.createTable('audit_events') as Builder, dialect)
          .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('ip', 'text')
          .addColumn('api_key', 'text')
          .addColumn('detail', 'text')
          .addColumn('count', 'integer', (c) => c.notNull().defaultTo(1))
          .addColumn('bucket', 'text', (c) => c.unique())
          .execute();
        await db.schema.createIndex('audit_events_user').on('audit_events').columns(['user_id', 'at', 'id']).execute();

        // Warnings mailed about keys: the primary key makes a second send of the same warning impossible.
        await db.schema
          .createTable('key_warnings')
          .addColumn('api_key', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('reference_at', 'bigint', (c) => c.notNull())
          .addColumn('sent_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('key_warnings_pk', ['api_key', 'kind', 'reference_at'])
          .execute();
      },
    },
    '0003_exchange': {
      async up(db: Kysely<unknown>) {
        await withId(db.schema.createTable('orders') as Builder, dialect)
          .addColumn('order_id', 'text', (c) => c.notNull().unique())
          .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
          .addColumn('symbol', 'text', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('price', 'text')
          .addColumn('quantity', 'text')
          .addColumn('quote_budget', 'text')
          .addColumn('executed_qty', 'text', (c) => c.notNull())
          .addColumn('executed_quote', 'text', (c) => c.notNull())
          .addColumn('remaining_qty', 'text', (c) => c.notNull())
          .addColumn('frozen_asset', 'text', (c) => c.notNull())
          .addColumn('frozen_remaining', 'text', (c) => c.notNull())
          .addColumn('status', 'integer', (c) => c.notNull())
          .addColumn('custom_id', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addUniqueConstraint('orders_custom_id', ['user_id', 'custom_id'])
          .execute();
        await db.schema.createIndex('orders_open').on('orders').columns(['symbol', 'status']).execute();
        await db.schema.createIndex('orders_user').on('orders').columns(['user_id', 'symbol', 'id']).execute();

        await withId(db.schema.createTable('trades') as Builder, dialect)
          .addColumn('symbol', 'text', (c) => c.notNull())
          .addColumn('price', 'text', (c) => c.notNull())
          .addColumn('quantity', 'text', (c) => c.notNull())
          .addColumn('quote_quantity', 'text', (c) => c.notNull())
          .addColumn('taker_side', 'text', (c) => c.notNull())
          .addColumn('maker_order_id', 'text', (c) => c.notNull())
          .addColumn('taker_order_id', 'text', (c) => c.notNull())
          .addColumn('maker_user_id', 'integer', (c) => c.notNull())
          .addColumn('taker_user_id', 'integer', (c) => c.notNull())
          .addColumn('maker_fee', 'text', (c) => c.notNull())
          .addColumn('maker_fee_asset', 'text', (c) => c.notNull())
          .addColumn('maker_fee_rate', 'text', (c) => c.notNull())
          .addColumn('taker_fee', 'text', (c) => c.notNull())
          .addColumn('taker_fee_asset', 'text', (c) => c.notNull())
          .addColumn('taker_fee_rate', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('trades_symbol').on('trades').columns(['symbol', 'id']).execute();
        await db.schema.createIndex('trades_maker_order').on('trades').column('maker_order_id').execute();
        await db.schema.createIndex('trades_taker_order').on('trades').column('taker_order_id').execute();
        await db.schema.createIndex('trades_maker_user').on('trades').columns(['maker_user_id', 'symbol', 'created_at']).execute();
        await db.schema.createIndex('trades_taker_user').on('trades').columns(['taker_user_id', 'symbol', 'created_at']).execute();

        await db.schema
          .createTable('fee_income')
          .addColumn('asset', 'text', (c) => c.primaryKey())
          .addColumn('amount', 'text', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('fee_rates')
          .addColumn('user_id', 'integer', (c) => c.primaryKey().references('users.id'))
          .addColumn('maker', 'text', (c) => c.notNull())
          .addColumn('taker', 'text', (c) => c.notNull())
          .execute();

        await withId(db.schema.createTable('withdrawals') as Builder, dialect)
          .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('asset', 'text', (c) => c.notNull())
          .addColumn('network', 'text', (c) => c.notNull())
          .addColumn('address', 'text', (c) => c.notNull())
          .addColumn('memo', 'text')
          .addColumn('amount', 'text', (c) => c.notNull())
          .addColumn('fee', 'text', (c) => c.notNull())
          .addColumn('to_user_id', 'integer')
          .addColumn('client_id', 'text')
          .addColumn('txid', 'text')
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('withdrawals_user').on('withdrawals').columns(['user_id', 'created_at']).execute();
      },
    },
    '0005_fleet_trading': {
      async up(db: Kysely<unknown>) {
        // Orders already stored were matched when they were placed.
        await db.schema.alterTable('orders').addColumn('matched', 'integer', (c) => c.notNull().defaultTo(1)).execute();
        await db.schema.createIndex('orders_waiting').on('orders').columns(['symbol', 'matched', 'id']).execute();
        await withId(db.schema.createTable('order_cancels') as Builder, dialect)
          .addColumn('order_id', 'text', (c) => c.notNull())
          .addColumn('symbol', 'text', (c) => c.notNull())
          .addColumn('requested_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('order_cancels_symbol').on('order_cancels').columns(['symbol', 'id']).execute();
        await db.schema
          .createTable('market_leases')
          .addColumn('symbol', 'text', (c) => c.primaryKey())
          .addColumn('epoch', 'integer', (c) => c.notNull())
          .addColumn('holder', 'text', (c) => c.notNull())
          .addColumn('taken_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('market_depth')
          .addColumn('symbol', 'text', (c) => c.primaryKey())
          .addColumn('asks', 'text', (c) => c.notNull())
          .addColumn('bids', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('fleet_members')
          .addColumn('server_id', 'text', (c) => c.primaryKey())
          .addColumn('seen_at', 'bigint', (c) => c.notNull())
          .execute();
      },
    },
    '0006_candles': {
      async up(db: Kysely<unknown>) {
        // Candles derived from trades, at each stored resolution (domain/candles.ts), written in the
        // transaction that writes their trades.
        await db.schema
          .createTable('candles')
          .addColumn('symbol', 'text', (c) => c.notNull())
          .addColumn('resolution', 'text', (c) => c.notNull())
          .addColumn('start', 'bigint', (c) => c.notNull())
          .addColumn('open', 'text', (c) => c.notNull())
          .addColumn('high', 'text', (c) => c.notNull())
          .addColumn('low', 'text', (c) => c.notNull())
          .addColumn('close', 'text', (c) => c.notNull())
          .addColumn('volume', 'text', (c) => c.notNull())
          .addColumn('quote_volume', 'text', (c) => c.notNull())
          .addColumn('trades', 'integer', (c) => c.notNull())
          .addPrimaryKeyConstraint('candles_pk', ['symbol', 'resolution', 'start'])
          .execute();
        // The last trade of each market folded into its candles. No row yet: the trades already stored
        // (a database upgraded to this version) are folded in by the market's engine when it starts.
        await db.schema
          .createTable('candle_progress')
          .addColumn('symbol', 'text', (c) => c.primaryKey())
          .addColumn('last_trade_id', 'bigint', (c) => c.notNull())
          .execute();
      },
    },
    '0009_login_addresses': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('login_addresses')
          .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
          .addColumn('ip', 'text', (c) => c.notNull())
          .addColumn('last_login_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('login_addresses_pk', ['user_id', 'ip'])
          .execute();
      },
    },
    '0007_subscribe_keys': {
      async up(db: Kysely<unknown>) {
        // Subscribe keys of the WebSocket API's private streams, by the digest of the key; revoked
        // says why one died before its time (its API key disabled, deleted or without Read).
        await db.schema
          .createTable('subscribe_keys')
          .addColumn('digest', 'text', (c) => c.primaryKey())
          .addColumn('api_key', 'text', (c) => c.notNull())
          .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .addColumn('revoked', 'text')
          .execute();
        await db.schema.createIndex('subscribe_keys_api_key').on('subscribe_keys').columns(['api_key', 'created_at']).execute();
        await db.schema.createIndex('subscribe_keys_expiry').on('subscribe_keys').column('expires_at').execute();
        // Each batch of a market's engine numbers the book it commits, so that incremental depth
        // (REST incrDepth and the WebSocket's incrdepth) can say which book a change applies to.
        await db.schema.alterTable('market_depth').addColumn('version', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
      },
    },
  };
}

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return { getMigrations: async () => migrations(dialect) };
}
