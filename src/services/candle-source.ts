// Where the WebSocket API's kbar history comes from. Streams are written against this interface;
// StoredCandleSource serves it from the durable candles the engines write with their trades (what REST
// kline reads), in a bounded number of rows whatever the trade history.
import { mergeCandles } from '../domain/candles.js';
import { earlierSlotStart, SLOT_KLINE_TYPES, slotStart, type Candle, type KbarSlot } from '../domain/kbar.js';
import { candleProgress } from '../storage/candles.js';
import type { Database } from '../storage/database.js';
import type { CandleService } from './candles.js';

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

/** A source may refuse a range it cannot serve; the subscription ends with an error frame saying why. */
export class CandleRangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CandleRangeError';
  }
}

/** How often a read is tried again when an engine commits between its reads. */
const SNAPSHOT_TRIES = 5;

export class StoredCandleSource implements CandleSource {
  constructor(
    private readonly database: Database,
    private readonly candles: CandleService,
  ) {}

  async klines(symbol: string, slot: KbarSlot, fromMs: number, size: number, untilMs?: number): Promise<CandleHistory> {
    // The candles and the mark of the last trade they hold must agree, or a live trade would be counted
    // twice or not at all. An engine writes both in one transaction, so the mark read before and after
    // the candles is the same exactly when no batch committed in between.
    for (let attempt = 1; ; attempt++) {
      const before = await candleProgress(this.database.db, symbol);
      const candles = await this.#read(symbol, slot, fromMs, size);
      const after = await candleProgress(this.database.db, symbol);
      if (before === after || attempt === SNAPSHOT_TRIES) {
        const from = slotStart(slot, fromMs);
        const held = candles.filter((c) => c.start >= from && (untilMs === undefined || c.start < untilMs));
        return { candles: held.slice(0, size), throughTradeId: after };
      }
    }
  }

  async #read(symbol: string, slot: KbarSlot, fromMs: number, size: number): Promise<Candle[]> {
    const fromSeconds = Math.floor(fromMs / 1000);
    if (slot !== 'year') return this.candles.klines(symbol, SLOT_KLINE_TYPES[slot], fromSeconds, size);
    const months = await this.candles.klines(symbol, 'month1', Math.floor(slotStart('year', fromMs) / 1000), size * 12);
    const years = new Map<number, Candle>();
    for (const month of months) {
      const start = slotStart('year', month.start);
      const year = years.get(start);
      years.set(start, year ? mergeCandles(year, month) : { ...month, start });
    }
    return [...years.values()];
  }
}

/** The start of the slot `size - 1` slots before the current one: where the latest `size` slots begin. */
export function latestSlotsFrom(slot: KbarSlot, now: number, size: number): number {
  return earlierSlotStart(slot, slotStart(slot, now), size - 1);
}
