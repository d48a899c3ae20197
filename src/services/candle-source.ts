// Where the WebSocket API's kbar history comes from. Streams are written against this interface; the
// durable candle service (REST kline) is meant to implement it. Until it does, TradeCandleSource
// derives candles from the trades table — exact to the trade, but it reads every trade of the range,
// so it refuses ranges holding more than a bounded number of trades.
import { applyTrade, earlierSlotStart, nextSlotStart, slotStart, type Candle, type KbarSlot } from '../domain/kbar.js';
import type { Database } from '../storage/database.js';
import { lastTradeId, listTradesBetween } from '../storage/exchange.js';

export interface CandleHistory {
  /** Slots that hold trades, oldest first. */
  candles: Candle[];
  /** The id of the market's last trade the candles include: live trades after it are added on top. */
  throughTradeId: number;
}

export interface CandleSource {
  /** Up to `size` candles of the market whose slots start from `fromMs` on (and before `untilMs` when given). */
  klines(symbol: string, slot: KbarSlot, fromMs: number, size: number, untilMs?: number): Promise<CandleHistory>;
}

export class CandleRangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CandleRangeError';
  }
}

/** Trades one request may read at most before it is refused (TradeCandleSource only). */
export const TRADE_SCAN_LIMIT = 200_000;

// TODO(market-data): replace by the durable candle service once it is merged (see docs/websocket.md).
export class TradeCandleSource implements CandleSource {
  constructor(private readonly database: Database) {}

  async klines(symbol: string, slot: KbarSlot, fromMs: number, size: number, untilMs?: number): Promise<CandleHistory> {
    // Read first: every trade at or below it is committed, and none above it is counted.
    const throughTradeId = await lastTradeId(this.database.db, symbol);
    const from = slotStart(slot, fromMs);
    let end = from;
    for (let i = 0; i < size; i++) end = nextSlotStart(slot, end);
    if (untilMs !== undefined) end = Math.min(end, untilMs);
    const trades = end > from ? await listTradesBetween(this.database.db, symbol, from, end, throughTradeId, TRADE_SCAN_LIMIT + 1) : [];
    if (trades.length > TRADE_SCAN_LIMIT) throw new CandleRangeError(`that range holds more than ${TRADE_SCAN_LIMIT} trades; ask for fewer or shorter kbars`);
    const candles: Candle[] = [];
    for (const t of trades) {
      const last = candles[candles.length - 1];
      const next = applyTrade(last, slot, { price: t.price, quantity: t.quantity, quoteQuantity: t.quote_quantity, at: t.created_at });
      if (last && last.start === next.start) candles[candles.length - 1] = next;
      else candles.push(next);
    }
    return { candles: candles.slice(0, size), throughTradeId };
  }
}

/** The start of the slot `size - 1` slots before the current one: where the latest `size` slots begin. */
export function latestSlotsFrom(slot: KbarSlot, now: number, size: number): number {
  return earlierSlotStart(slot, slotStart(slot, now), size - 1);
}
