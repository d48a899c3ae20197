// Storage of candles: folded from trades in the transaction that writes the trades, and read back at
// a stored resolution. Only a market's engine writes its trades (one writer per market: the engine
// lease on a fleet, the one server on SQLite), so a candle read and rewritten inside that
// transaction cannot lose an update.
import type { Kysely } from 'kysely';
import { applyTrade, bucketStart, mergeCandles, STORED_RESOLUTIONS, type Candle, type CandleTrade, type StoredResolution } from '../domain/candles.js';
import type { Schema } from './schema.js';

type CandleRow = Schema['candles'];

const toCandle = (row: Pick<CandleRow, 'start' | 'open' | 'high' | 'low' | 'close' | 'volume' | 'quote_volume' | 'trades'>): Candle => ({
  start: Number(row.start),
  open: row.open,
  high: row.high,
  low: row.low,
  close: row.close,
  volume: row.volume,
  quoteVolume: row.quote_volume,
  trades: Number(row.trades),
});

const CANDLE_COLUMNS = ['start', 'open', 'high', 'low', 'close', 'volume', 'quote_volume', 'trades'] as const;
/** Bucket starts named in one query, and rows written by one statement: well inside every driver's parameter limit. */
const KEYS_PER_QUERY = 500;
const ROWS_PER_STATEMENT = 100;

/**
 * Whether the market's candles include every trade stored so far: false until its engine has folded
 * in the trades stored before candles existed (or by a server of an older version).
 */
export async function candlesCaughtUp(trx: Kysely<Schema>, symbol: string): Promise<boolean> {
  const row = await trx
    .selectNoFrom((eb) => [
      eb.selectFrom('candle_progress').select('last_trade_id').where('symbol', '=', symbol).as('mark'),
      eb.selectFrom('trades').select((t) => t.fn.max('id').as('newest')).where('symbol', '=', symbol).as('newest'),
    ])
    .executeTakeFirstOrThrow();
  return row.mark !== null && Number(row.mark) === Number(row.newest ?? 0);
}

/** A candle as stored: one row per market, resolution and bucket start. */
export type CandleRecord = Omit<CandleRow, 'symbol'>;

/**
 * The stored candles a market's engine last wrote, by `resolution:start`, and the buckets it found
 * empty (null): what the database holds for them as long as that engine holds the market, since it
 * is their only writer. The engine drops it whenever a batch of its fails.
 */
export type CandleMemory = Map<string, Candle | null>;

/** Folds trades (in the order they happened, the last one `lastTradeId`) into the market's stored candles. */
export async function foldIntoCandles(trx: Kysely<Schema>, symbol: string, trades: readonly CandleTrade[], lastTradeId: number): Promise<void> {
  await writeCandles(trx, symbol, await foldedCandles(trx, symbol, trades), lastTradeId);
}

/**
 * The candles these trades (in the order they happened) change, merged with what is stored: read in
 * one query, or not at all when `memory` knows every bucket. `memory` learns what was read.
 */
export async function foldedCandles(trx: Kysely<Schema>, symbol: string, trades: readonly CandleTrade[], memory?: CandleMemory): Promise<CandleRecord[]> {
  // The trades' own minute candles, in the order the trades happened; every resolution is then
  // updated by merging these (a batch's trades share a minute: a handful of merges, not one per trade).
  const minutes = new Map<number, Candle>();
  for (const trade of trades) {
    const start = bucketStart('minute1', trade.at);
    minutes.set(start, applyTrade(minutes.get(start), trade, 'minute1'));
  }
  const touched = new Map<string, { resolution: StoredResolution; candle: Candle | undefined }>();
  const wanted = new Map<string, { resolution: StoredResolution; start: number }>();
  for (const minute of minutes.keys()) {
    for (const resolution of STORED_RESOLUTIONS) {
      const start = bucketStart(resolution, minute);
      const key = `${resolution}:${start}`;
      const known = memory?.get(key);
      if (known !== undefined) {
        if (known) touched.set(key, { resolution, candle: known });
      } else wanted.set(key, { resolution, start });
    }
  }
  // The candles already stored for these buckets: usually one per resolution, read in one query.
  const keys = [...wanted.values()];
  for (let i = 0; i < keys.length; i += KEYS_PER_QUERY) {
    const byResolution = new Map<StoredResolution, number[]>();
    for (const { resolution, start } of keys.slice(i, i + KEYS_PER_QUERY)) {
      const starts = byResolution.get(resolution) ?? [];
      starts.push(start);
      byResolution.set(resolution, starts);
    }
    const rows = await trx
      .selectFrom('candles')
      .select(['resolution', ...CANDLE_COLUMNS])
      .where('symbol', '=', symbol)
      .where((eb) => eb.or([...byResolution].map(([resolution, starts]) => eb.and([eb('resolution', '=', resolution), eb('start', 'in', starts)]))))
      .execute();
    for (const row of rows) touched.set(`${row.resolution}:${Number(row.start)}`, { resolution: row.resolution as StoredResolution, candle: toCandle(row) });
  }
  for (const key of wanted.keys()) memory?.set(key, touched.get(key)?.candle ?? null);
  for (const minute of minutes.values()) {
    for (const resolution of STORED_RESOLUTIONS) {
      const start = bucketStart(resolution, minute.start);
      const key = `${resolution}:${start}`;
      const entry = touched.get(key) ?? { resolution, candle: undefined };
      entry.candle = entry.candle ? mergeCandles(entry.candle, minute) : { ...minute, start };
      touched.set(key, entry);
    }
  }
  return [...touched.values()].map(({ resolution, candle }) => ({
    resolution,
    start: candle!.start,
    open: candle!.open,
    high: candle!.high,
    low: candle!.low,
    close: candle!.close,
    volume: candle!.volume,
    quote_volume: candle!.quoteVolume,
    trades: candle!.trades,
  }));
}

/** What a written candle is, for the engine's CandleMemory. */
export function rememberedCandle(row: CandleRecord): [string, Candle] {
  return [`${row.resolution}:${Number(row.start)}`, toCandle(row)];
}

/** Stores folded candles and how far the market's candles now reach (`lastTradeId`). */
export async function writeCandles(trx: Kysely<Schema>, symbol: string, records: readonly CandleRecord[], lastTradeId: number): Promise<void> {
  const rows = records.map((r) => ({ symbol, ...r }));
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    await trx
      .insertInto('candles')
      .values(rows.slice(i, i + ROWS_PER_STATEMENT))
      .onConflict((oc) =>
        oc.columns(['symbol', 'resolution', 'start']).doUpdateSet((eb) => ({
          open: eb.ref('excluded.open'),
          high: eb.ref('excluded.high'),
          low: eb.ref('excluded.low'),
          close: eb.ref('excluded.close'),
          volume: eb.ref('excluded.volume'),
          quote_volume: eb.ref('excluded.quote_volume'),
          trades: eb.ref('excluded.trades'),
        })),
      )
      .execute();
  }
  await setCandleProgress(trx, symbol, lastTradeId);
}

async function setCandleProgress(trx: Kysely<Schema>, symbol: string, lastTradeId: number): Promise<void> {
  await trx
    .insertInto('candle_progress')
    .values({ symbol, last_trade_id: lastTradeId })
    .onConflict((oc) => oc.column('symbol').doUpdateSet({ last_trade_id: lastTradeId }))
    .execute();
}

/**
 * Folds up to `limit` of the market's trades that its candles do not include yet, oldest first;
 * returns how many. Resumable: each call continues where the last committed one stopped.
 */
export async function catchUpCandles(trx: Kysely<Schema>, symbol: string, limit: number): Promise<number> {
  const mark = (await trx.selectFrom('candle_progress').select('last_trade_id').where('symbol', '=', symbol).executeTakeFirst())?.last_trade_id;
  const trades = await trx
    .selectFrom('trades')
    .select(['id', 'price', 'quantity', 'quote_quantity', 'created_at'])
    .where('symbol', '=', symbol)
    .where('id', '>', Number(mark ?? 0))
    .orderBy('id')
    .limit(limit)
    .execute();
  if (trades.length === 0) {
    if (mark === undefined) await setCandleProgress(trx, symbol, 0);
    return 0;
  }
  const folded = trades.map((t) => ({ price: t.price, quantity: t.quantity, quoteQuantity: t.quote_quantity, at: Number(t.created_at) }));
  await foldIntoCandles(trx, symbol, folded, trades[trades.length - 1]!.id);
  return trades.length;
}

/** Candles of one resolution from the bucket starting at `from` on, oldest first; or the newest, newest first. */
export async function listCandles(db: Kysely<Schema>, symbol: string, resolution: StoredResolution, query: { from: number; limit: number } | { newest: number }): Promise<Candle[]> {
  let select = db.selectFrom('candles').select(CANDLE_COLUMNS).where('symbol', '=', symbol).where('resolution', '=', resolution);
  if ('from' in query) select = select.where('start', '>=', query.from).orderBy('start', 'asc').limit(query.limit);
  else select = select.orderBy('start', 'desc').limit(query.newest);
  return (await select.execute()).map(toCandle);
}

/** Candles of one resolution whose buckets start in any of the ranges [from, until), oldest first. */
export async function listCandlesIn(db: Kysely<Schema>, symbol: string, resolution: StoredResolution, ranges: ReadonlyArray<{ from: number; until: number }>): Promise<Candle[]> {
  if (ranges.length === 0) return [];
  const rows = await db
    .selectFrom('candles')
    .select(CANDLE_COLUMNS)
    .where('symbol', '=', symbol)
    .where('resolution', '=', resolution)
    .where((eb) => eb.or(ranges.map((r) => eb.and([eb('start', '>=', r.from), eb('start', '<', r.until)]))))
    .orderBy('start', 'asc')
    .execute();
  return rows.map(toCandle);
}

/** The id of the market's last trade folded into its candles (0 when none is). */
export async function candleProgress(db: Kysely<Schema>, symbol: string): Promise<number> {
  const row = await db.selectFrom('candle_progress').select('last_trade_id').where('symbol', '=', symbol).executeTakeFirst();
  return Number(row?.last_trade_id ?? 0);
}
