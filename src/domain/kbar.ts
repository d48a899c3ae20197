// Candles as LBank's WebSocket API names them (kbar slots) and how a trade moves one. Slots of an hour
// and less are aligned on the epoch; days, weeks (from Monday), months and years on LBank's clock,
// UTC+8, so that a daily candle opens at 00:00 Beijing time as LBank's do.
import { Decimal } from './ledger.js';
import { LBANK_OFFSET_MS } from './lbank-time.js';

export const KBAR_SLOTS = ['1min', '5min', '15min', '30min', '1hr', '4hr', 'day', 'week', 'month', 'year'] as const;
export type KbarSlot = (typeof KBAR_SLOTS)[number];

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const FIXED: Partial<Record<KbarSlot, number>> = { '1min': MINUTE, '5min': 5 * MINUTE, '15min': 15 * MINUTE, '30min': 30 * MINUTE, '1hr': 60 * MINUTE, '4hr': 240 * MINUTE, day: DAY, week: 7 * DAY };

export function isKbarSlot(text: string): text is KbarSlot {
  return (KBAR_SLOTS as readonly string[]).includes(text);
}

/** The start (epoch ms) of the slot holding `at`. */
export function slotStart(slot: KbarSlot, at: number): number {
  const local = at + LBANK_OFFSET_MS;
  if (slot === 'week') {
    // 1970-01-01 was a Thursday: three days after a Monday.
    const day = Math.floor(local / DAY);
    return (day - ((day + 3) % 7)) * DAY - LBANK_OFFSET_MS;
  }
  const fixed = FIXED[slot];
  if (fixed !== undefined) return Math.floor(local / fixed) * fixed - LBANK_OFFSET_MS;
  const date = new Date(local);
  const start = slot === 'month' ? Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1) : Date.UTC(date.getUTCFullYear(), 0, 1);
  return start - LBANK_OFFSET_MS;
}

/** The start of the slot after the one starting at `start`. */
export function nextSlotStart(slot: KbarSlot, start: number): number {
  const fixed = FIXED[slot];
  if (fixed !== undefined) return start + fixed;
  const date = new Date(start + LBANK_OFFSET_MS);
  const next = slot === 'month' ? Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1) : Date.UTC(date.getUTCFullYear() + 1, 0, 1);
  return next - LBANK_OFFSET_MS;
}

/** The start of the slot `count` slots before the one starting at `start`. */
export function earlierSlotStart(slot: KbarSlot, start: number, count: number): number {
  const fixed = FIXED[slot];
  if (fixed !== undefined) return start - count * fixed;
  const date = new Date(start + LBANK_OFFSET_MS);
  const earlier = slot === 'month' ? Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - count, 1) : Date.UTC(date.getUTCFullYear() - count, 0, 1);
  return earlier - LBANK_OFFSET_MS;
}

/** One slot of a market's trades. Amounts are exact decimal strings. */
export interface Candle {
  /** Epoch ms of the slot's start. */
  start: number;
  open: string;
  high: string;
  low: string;
  close: string;
  /** Base quantity traded. */
  volume: string;
  /** Quote quantity traded (sum of price × quantity as settled). */
  turnover: string;
  count: number;
}

export interface CandleTrade {
  price: string;
  quantity: string;
  quoteQuantity: string;
  at: number;
}

/** The candle after `trade`, which falls in the slot of `candle` (or opens a new one when there is none). */
export function applyTrade(candle: Candle | undefined, slot: KbarSlot, trade: CandleTrade): Candle {
  const start = slotStart(slot, trade.at);
  if (!candle || candle.start !== start) {
    return { start, open: trade.price, high: trade.price, low: trade.price, close: trade.price, volume: trade.quantity, turnover: trade.quoteQuantity, count: 1 };
  }
  const price = new Decimal(trade.price);
  return {
    start,
    open: candle.open,
    high: price.gt(candle.high) ? trade.price : candle.high,
    low: price.lt(candle.low) ? trade.price : candle.low,
    close: trade.price,
    volume: new Decimal(candle.volume).plus(trade.quantity).toFixed(),
    turnover: new Decimal(candle.turnover).plus(trade.quoteQuantity).toFixed(),
    count: candle.count + 1,
  };
}

/** A slot without trades: flat at the last price. */
export function flatCandle(start: number, price: string): Candle {
  return { start, open: price, high: price, low: price, close: price, volume: '0', turnover: '0', count: 0 };
}
