// The candle arithmetic the REST klines and the WebSocket kbar pushes share: bucket starts on LBank's clock,
// a trade folded into a live candle (rolling over at the bucket's end), candles merged into longer ones.
import { describe, expect, it } from 'vitest';
import { aggregate, applyTrade, bucketStart, KLINE_TYPES, mergeCandles, nextBucketStart, sourceOf, type Candle } from '../src/domain/candles.js';

const at = (iso: string) => Date.parse(iso);

describe('candle buckets', () => {
  it('starts each type’s bucket on LBank’s clock (UTC+8): days at 16:00 UTC, weeks on Monday, months on the 1st', () => {
    const moment = at('2028-02-29T15:59:59.999Z'); // the last instant of Tuesday 29 February 2028 in UTC+8
    expect(
      Object.fromEntries(KLINE_TYPES.map((type) => [type, new Date(bucketStart(type, moment)).toISOString()])),
    ).toEqual({
      minute1: '2028-02-29T15:59:00.000Z',
      minute5: '2028-02-29T15:55:00.000Z',
      minute15: '2028-02-29T15:45:00.000Z',
      minute30: '2028-02-29T15:30:00.000Z',
      hour1: '2028-02-29T15:00:00.000Z',
      hour2: '2028-02-29T14:00:00.000Z',
      hour4: '2028-02-29T12:00:00.000Z',
      hour6: '2028-02-29T10:00:00.000Z',
      hour8: '2028-02-29T08:00:00.000Z',
      hour12: '2028-02-29T04:00:00.000Z',
      day1: '2028-02-28T16:00:00.000Z',
      week1: '2028-02-27T16:00:00.000Z',
      month1: '2028-01-31T16:00:00.000Z',
    });
    // One millisecond later it is 1 March there: a new day and a new month, the same week.
    const next = moment + 1;
    expect(bucketStart('day1', next)).toBe(next);
    expect(bucketStart('month1', next)).toBe(next);
    expect(bucketStart('week1', next)).toBe(at('2028-02-27T16:00:00Z'));
    expect(bucketStart('week1', at('2028-03-05T15:59:59Z'))).toBe(at('2028-02-27T16:00:00Z'));
    expect(bucketStart('week1', at('2028-03-05T16:00:00Z'))).toBe(at('2028-03-05T16:00:00Z'));
    expect(nextBucketStart('month1', at('2027-11-30T16:00:00Z'))).toBe(at('2027-12-31T16:00:00Z'));
    expect(nextBucketStart('month1', at('2028-01-31T16:00:00Z'))).toBe(at('2028-02-29T16:00:00Z'));
    expect(nextBucketStart('week1', at('2028-02-27T16:00:00Z'))).toBe(at('2028-03-05T16:00:00Z'));
  });

  it('serves every type from a stored resolution whose buckets nest in it', () => {
    for (const type of KLINE_TYPES) {
      const { resolution, rows } = sourceOf(type);
      expect(rows).toBeLessThanOrEqual(7);
      // Every stored bucket lies inside one bucket of the type it serves.
      for (let t = at('2027-12-25T00:00:00Z'); t < at('2028-01-10T00:00:00Z'); t += 37 * 60_000) {
        const stored = bucketStart(resolution, t);
        expect(bucketStart(type, stored), `${type} from ${resolution}`).toBe(bucketStart(type, t));
      }
    }
  });
});

describe('candles from trades', () => {
  const trade = (iso: string, price: string, quantity: string, quoteQuantity: string) => ({ at: at(iso), price, quantity, quoteQuantity });

  it('opens with the first trade, closes with the last, and rolls over to a new candle in the next bucket', () => {
    let live: Candle | undefined;
    live = applyTrade(live, trade('2028-01-03T10:00:05Z', '10', '1', '10'), 'minute1');
    live = applyTrade(live, trade('2028-01-03T10:00:20Z', '12.5', '0.5', '6.25'), 'minute1');
    live = applyTrade(live, trade('2028-01-03T10:00:59.999Z', '9.75', '2', '19.5'), 'minute1');
    expect(live).toEqual({ start: at('2028-01-03T10:00:00Z'), open: '10', high: '12.5', low: '9.75', close: '9.75', volume: '3.5', quoteVolume: '35.75', trades: 3 });
    const next = applyTrade(live, trade('2028-01-03T10:01:00Z', '11', '0.1', '1.1'), 'minute1');
    expect(next).toEqual({ start: at('2028-01-03T10:01:00Z'), open: '11', high: '11', low: '11', close: '11', volume: '0.1', quoteVolume: '1.1', trades: 1 });
  });

  it('merges shorter candles into longer ones, leaving out buckets without trades', () => {
    const minute = (iso: string, o: string, h: string, l: string, c: string, v: string): Candle => ({ start: at(iso), open: o, high: h, low: l, close: c, volume: v, quoteVolume: v, trades: 1 });
    const minutes = [
      minute('2028-01-03T10:01:00Z', '10', '11', '9', '10.5', '1'),
      minute('2028-01-03T10:04:00Z', '10.5', '13', '10', '12', '2'),
      minute('2028-01-03T10:05:00Z', '12', '12', '8', '8.5', '0.25'),
      minute('2028-01-03T10:31:00Z', '8.5', '9', '8.5', '9', '4'),
    ];
    expect(aggregate(minutes, 'minute5')).toEqual([
      { start: at('2028-01-03T10:00:00Z'), open: '10', high: '13', low: '9', close: '12', volume: '3', quoteVolume: '3', trades: 2 },
      { ...minutes[2], start: at('2028-01-03T10:05:00Z') },
      { ...minutes[3], start: at('2028-01-03T10:30:00Z') },
    ]);
    expect(aggregate(minutes, 'hour1')).toEqual([{ start: at('2028-01-03T10:00:00Z'), open: '10', high: '13', low: '8', close: '9', volume: '7.25', quoteVolume: '7.25', trades: 4 }]);
    expect(minutes.reduce(mergeCandles)).toMatchObject({ start: minutes[0]!.start, open: '10', close: '9', high: '13', low: '8' });
  });
});
