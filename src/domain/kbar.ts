// Candles as LBank's WebSocket API names them (kbar slots) and how a trade moves one. The arithmetic
// is the candles' (domain/candles.ts), so a kbar and a REST kline of the same bucket agree: slots fall
// on LBank's clock, UTC+8 (a day opens at 00:00 Beijing time, 16:00 UTC). Only `year`, which REST kline
// lacks, is counted here.
import { bucketStart, mergeCandles, nextBucketStart, type Candle, type CandleTrade, type KlineType } from './candles.js';
import { Decimal } from './ledger.js';
import { LBANK_OFFSET_MS } from './lbank-time.js';

export type { Candle, CandleTrade };

export const KBAR_SLOTS = ['1min', '5min', '15min', '30min', '1hr', '4hr', 'day', 'week', 'month', 'year'] as const;
export type KbarSlot = (typeof KBAR_SLOTS)[number];

/** Each slot as the kline type of the same buckets; a year is twelve months. */
export const SLOT_KLINE_TYPES: Record<Exclude<KbarSlot, 'year'>, KlineType> = {
  '1min': 'minute1',
  '5min': 'minute5',
  '15min': 'minute15',
  '30min': 'minute30',
  '1hr': 'hour1',
  '4hr': 'hour4',
  day: 'day1',
  week: 'week1',
  month: 'month1',
};

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const FIXED: Partial<Record<KbarSlot, number>> = { '1min': MINUTE, '5min': 5 * MINUTE, '15min': 15 * MINUTE, '30min': 30 * MINUTE, '1hr': 60 * MINUTE, '4hr': 240 * MINUTE, day: DAY, week: 7 * DAY };

export function isKbarSlot(text: string): text is KbarSlot {
  return (KBAR_SLOTS as readonly string[]).includes(text);
}

/** 1 January of the year of `at` on LBank's clock (its epoch ms), or of `years` later. */
function yearStart(at: number, years = 0): number {
  return Date.UTC(new Date(at + LBANK_OFFSET_MS).getUTCFullYear() + years, 0, 1) - LBANK_OFFSET_MS;
}

/** The start (epoch ms) of the slot holding `at`. */
export function slotStart(slot: KbarSlot, at: number): number {
  return slot === 'year' ? yearStart(at) : bucketStart(SLOT_KLINE_TYPES[slot], at);
}

/** The start of the slot after the one starting at `start`. */
export function nextSlotStart(slot: KbarSlot, start: number): number {
  return slot === 'year' ? yearStart(start, 1) : nextBucketStart(SLOT_KLINE_TYPES[slot], start);
}

/** The start of the slot `count` slots before the one starting at `start`. */
export function earlierSlotStart(slot: KbarSlot, start: number, count: number): number {
  const fixed = FIXED[slot];
  if (fixed !== undefined) return start - count * fixed;
  if (slot === 'year') return yearStart(start, -count);
  const date = new Date(start + LBANK_OFFSET_MS);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - count, 1) - LBANK_OFFSET_MS;
}

/** The candle after `trade`, which falls in the slot of `candle` (or opens a new one when there is none). */
export function applyTrade(candle: Candle | undefined, slot: KbarSlot, trade: CandleTrade): Candle {
  const start = slotStart(slot, trade.at);
  const own: Candle = {
    start,
    open: trade.price,
    high: trade.price,
    low: trade.price,
    close: trade.price,
    volume: new Decimal(trade.quantity).toFixed(),
    quoteVolume: new Decimal(trade.quoteQuantity).toFixed(),
    trades: 1,
  };
  return candle && candle.start === start ? mergeCandles(candle, own) : own;
}

/** A slot without trades: flat at the last price. */
export function flatCandle(start: number, price: string): Candle {
  return { start, open: price, high: price, low: price, close: price, volume: '0', quoteVolume: '0', trades: 0 };
}
