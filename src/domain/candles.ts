// Candles (k-bars) derived from trades: which bucket a moment falls in for each of LBank's kline types
// (as epoch milliseconds), a trade folded into a candle, and candles merged into longer ones.
// Buckets follow LBank's clock, UTC+8 (China Standard Time, no daylight saving): a day candle starts at
// midnight there, 16:00 UTC, as LBank's do, so that a bot sees the same bars here as on LBank. Every
// timestamp stays an instant (epoch ms or s); only where buckets begin depends on the zone.
// Candles are kept at a few stored resolutions; every kline type is served from one of them by
// merging a bounded number of rows (at most 7 per candle served).
import { Decimal } from './ledger.js';
import { LBANK_OFFSET_MS } from './lbank-time.js';

/** LBank's kline types, plus hour2 and hour6, which ccxt maps its 2h and 6h timeframes to. */
export const KLINE_TYPES = ['minute1', 'minute5', 'minute15', 'minute30', 'hour1', 'hour2', 'hour4', 'hour6', 'hour8', 'hour12', 'day1', 'week1', 'month1'] as const;
export type KlineType = (typeof KLINE_TYPES)[number];

export function isKlineType(text: string): text is KlineType {
  return (KLINE_TYPES as readonly string[]).includes(text);
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Buckets are counted on LBank's clock, UTC+8. */
const EXCHANGE_UTC_OFFSET_MS = LBANK_OFFSET_MS;
/** 1970-01-05, the first Monday after the epoch (on the exchange's clock): weeks start on Monday. */
const FIRST_MONDAY = 4 * DAY;

/** Fixed lengths; a month has none. */
const LENGTH: Record<Exclude<KlineType, 'month1'>, number> = {
  minute1: MINUTE,
  minute5: 5 * MINUTE,
  minute15: 15 * MINUTE,
  minute30: 30 * MINUTE,
  hour1: HOUR,
  hour2: 2 * HOUR,
  hour4: 4 * HOUR,
  hour6: 6 * HOUR,
  hour8: 8 * HOUR,
  hour12: 12 * HOUR,
  day1: DAY,
  week1: 7 * DAY,
};

/** The resolutions candles are stored at (each trade updates one row of each). */
export const STORED_RESOLUTIONS = ['minute1', 'minute5', 'hour1', 'hour4', 'day1', 'month1'] as const satisfies readonly KlineType[];
export type StoredResolution = (typeof STORED_RESOLUTIONS)[number];

/** Which stored resolution serves a kline type, and at most how many of its rows make one candle. */
const SOURCE: Record<KlineType, { resolution: StoredResolution; rows: number }> = {
  minute1: { resolution: 'minute1', rows: 1 },
  minute5: { resolution: 'minute5', rows: 1 },
  minute15: { resolution: 'minute5', rows: 3 },
  minute30: { resolution: 'minute5', rows: 6 },
  hour1: { resolution: 'hour1', rows: 1 },
  hour2: { resolution: 'hour1', rows: 2 },
  hour4: { resolution: 'hour4', rows: 1 },
  hour6: { resolution: 'hour1', rows: 6 },
  hour8: { resolution: 'hour4', rows: 2 },
  hour12: { resolution: 'hour4', rows: 3 },
  day1: { resolution: 'day1', rows: 1 },
  week1: { resolution: 'day1', rows: 7 },
  month1: { resolution: 'month1', rows: 1 },
};

export function sourceOf(type: KlineType): { resolution: StoredResolution; rows: number } {
  return SOURCE[type];
}

/** The start (epoch ms) of the bucket of `type` that the moment `ms` falls in. */
export function bucketStart(type: KlineType, ms: number): number {
  // Counted on the exchange's clock, then brought back to an instant.
  const local = ms + EXCHANGE_UTC_OFFSET_MS;
  if (type === 'month1') {
    const date = new Date(local);
    return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1) - EXCHANGE_UTC_OFFSET_MS;
  }
  const length = LENGTH[type];
  // Hours and days divide a day, so counting from the epoch aligns them to midnight.
  const origin = type === 'week1' ? FIRST_MONDAY : 0;
  return Math.floor((local - origin) / length) * length + origin - EXCHANGE_UTC_OFFSET_MS;
}

/** The start of the bucket after the one that starts at `start`. */
export function nextBucketStart(type: KlineType, start: number): number {
  if (type === 'month1') {
    const date = new Date(start + EXCHANGE_UTC_OFFSET_MS);
    return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1) - EXCHANGE_UTC_OFFSET_MS;
  }
  return start + LENGTH[type];
}

/** A candle: the trades of one bucket. Amounts are decimal strings, as the ledger writes them. */
export interface Candle {
  /** Start of the bucket, epoch ms (UTC). */
  start: number;
  open: string;
  high: string;
  low: string;
  close: string;
  /** Base quantity traded. */
  volume: string;
  /** Quote amount traded. */
  quoteVolume: string;
  /** How many trades. */
  trades: number;
}

/** What a candle needs of a trade. */
export interface CandleTrade {
  price: string;
  quantity: string;
  quoteQuantity: string;
  /** Epoch ms. */
  at: number;
}

/**
 * The candle of `type` after one more trade. Trades are applied in the order they happened: the
 * first opens the candle, each one closes it. A trade of another bucket than `candle`'s starts a
 * new candle (a live candle rolls over on the first trade of the next bucket).
 */
export function applyTrade(candle: Candle | undefined, trade: CandleTrade, type: KlineType): Candle {
  const start = bucketStart(type, trade.at);
  if (!candle || candle.start !== start) {
    return { start, open: trade.price, high: trade.price, low: trade.price, close: trade.price, volume: new Decimal(trade.quantity).toFixed(), quoteVolume: new Decimal(trade.quoteQuantity).toFixed(), trades: 1 };
  }
  const price = new Decimal(trade.price);
  return {
    start,
    open: candle.open,
    high: price.gt(candle.high) ? trade.price : candle.high,
    low: price.lt(candle.low) ? trade.price : candle.low,
    close: trade.price,
    volume: new Decimal(candle.volume).plus(trade.quantity).toFixed(),
    quoteVolume: new Decimal(candle.quoteVolume).plus(trade.quoteQuantity).toFixed(),
    trades: candle.trades + 1,
  };
}

/** Two candles as one, `earlier` before `later`; the result keeps `earlier`'s start. */
export function mergeCandles(earlier: Candle, later: Candle): Candle {
  return {
    start: earlier.start,
    open: earlier.open,
    high: new Decimal(later.high).gt(earlier.high) ? later.high : earlier.high,
    low: new Decimal(later.low).lt(earlier.low) ? later.low : earlier.low,
    close: later.close,
    volume: new Decimal(earlier.volume).plus(later.volume).toFixed(),
    quoteVolume: new Decimal(earlier.quoteVolume).plus(later.quoteVolume).toFixed(),
    trades: earlier.trades + later.trades,
  };
}

/**
 * Candles of a shorter resolution, oldest first, merged into candles of `type` (each starting at
 * its bucket's start). Buckets without trades have no candle.
 */
export function aggregate(candles: readonly Candle[], type: KlineType): Candle[] {
  const result: Candle[] = [];
  for (const candle of candles) {
    const start = bucketStart(type, candle.start);
    const last = result[result.length - 1];
    if (last && last.start === start) result[result.length - 1] = mergeCandles(last, candle);
    else result.push({ ...candle, start });
  }
  return result;
}
