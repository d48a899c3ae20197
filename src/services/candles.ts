// Market data from candles, on every server: LBank's klines, and the 24-hour statistics of the tickers.
// Each answer reads a bounded number of candle rows, however many trades a market has.
import { aggregate, bucketStart, mergeCandles, nextBucketStart, sourceOf, type Candle, type KlineType } from '../domain/candles.js';
import { Decimal } from '../domain/ledger.js';
import type { Database } from '../storage/database.js';
import { listCandles, listCandlesIn } from '../storage/candles.js';
import { listRecentTrades } from '../storage/exchange.js';

export interface DayStats {
  high: string;
  low: string;
  latest: string;
  /** Percent, two decimals. */
  change: string;
  /** Base volume. */
  vol: string;
  /** Quote volume. */
  turnover: string;
}

/** The 24-hour window is counted in whole minutes: the current one and the 1,439 before it. */
const WINDOW_MINUTES = 24 * 60;
const MINUTE = 60_000;

export class CandleService {
  /** Rows read from the database so far: what tests check a request's cost by. */
  rowsRead = 0;

  constructor(
    private readonly database: Database,
    /** The market's symbol as stored; throws for an unknown market. */
    private readonly marketOf: (symbol: string) => string,
  ) {}

  /**
   * Up to `size` candles of `type`, oldest first: from the bucket that holds `fromSeconds` on, or the
   * newest when it is undefined. Buckets without trades have no candle.
   */
  async klines(symbol: string, type: KlineType, fromSeconds: number | undefined, size: number): Promise<Candle[]> {
    const market = this.marketOf(symbol);
    const { resolution, rows } = sourceOf(type);
    // `size` candles need at most `size × rows` stored rows; a candle cut off at the end of what was
    // read can only be beyond the first `size` (see the README's kline section).
    const limit = size * rows;
    if (fromSeconds === undefined) {
      const stored = (await listCandles(this.database.db, market, resolution, { newest: limit })).reverse();
      this.rowsRead += stored.length;
      return aggregate(stored, type).slice(-size);
    }
    const stored = await listCandles(this.database.db, market, resolution, { from: bucketStart(type, fromSeconds * 1000), limit });
    this.rowsRead += stored.length;
    return aggregate(stored, type).slice(0, size);
  }

  /**
   * The last 24 hours of a market, to the minute: the trades of the current minute and the 1,439
   * before it, read as hour candles for the whole hours between and minute candles at both ends
   * (at most 24 + 119 rows), and the latest trade's price.
   */
  async dayStats(symbol: string, now: number): Promise<DayStats> {
    const market = this.marketOf(symbol);
    const from = bucketStart('minute1', now) - (WINDOW_MINUTES - 1) * MINUTE;
    const firstHour = bucketStart('hour1', from) === from ? from : nextBucketStart('hour1', bucketStart('hour1', from));
    const lastHour = bucketStart('hour1', now);
    const [minutes, hours, last] = await Promise.all([
      listCandlesIn(this.database.db, market, 'minute1', [
        { from, until: firstHour },
        { from: lastHour, until: Number.MAX_SAFE_INTEGER },
      ]),
      listCandlesIn(this.database.db, market, 'hour1', [{ from: firstHour, until: lastHour }]),
      listRecentTrades(this.database.db, market, 1),
    ]);
    this.rowsRead += minutes.length + hours.length + last.length;
    const latest = last[0]?.price ?? '0';
    const candles = [...minutes, ...hours].sort((a, b) => a.start - b.start);
    if (candles.length === 0) return { high: latest, low: latest, latest, change: '0', vol: '0', turnover: '0' };
    const day = candles.reduce(mergeCandles);
    const open = new Decimal(day.open);
    return {
      high: day.high,
      low: day.low,
      latest,
      change: new Decimal(latest).minus(open).div(open).times(100).toDecimalPlaces(2).toFixed(),
      vol: day.volume,
      turnover: day.quoteVolume,
    };
  }
}
