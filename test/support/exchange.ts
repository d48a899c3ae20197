// Helpers for exchange tests: funded accounts with keys, and the ledger invariant.
import { expect } from 'vitest';
import { LbankClient } from '../../src/client/index.js';
import type { Authority } from '../../src/domain/keys.js';
import { Decimal } from '../../src/domain/ledger.js';
import { STORED_RESOLUTIONS } from '../../src/domain/candles.js';
import type { Database } from '../../src/storage/database.js';
import { ledgerTotals } from '../../src/storage/ledger.js';
import type { RunningKeygate } from './server.js';

export interface Trader {
  userId: number;
  uid: string;
  apiKey: string;
  secret: string;
  client: LbankClient;
}

let counter = 0;

export async function trader(keygate: RunningKeygate, funds: Record<string, string>, authority: Authority[] = ['read', 'trade'], ips = '127.0.0.1'): Promise<Trader> {
  const user = await keygate.app.accounts.create(`trader${++counter}-${Date.now()}@example.com`, undefined);
  for (const [asset, amount] of Object.entries(funds)) await keygate.app.ledger.credit(user.id, asset, amount);
  const method = ips === '' ? 'RSA' : 'HmacSHA256';
  const key = await keygate.app.apiKeys.create(user.id, { name: 'bot', method, ips, authority });
  return { userId: user.id, uid: user.uid, apiKey: key.key.apiKey, secret: key.secret!, client: new LbankClient({ baseUrl: keygate.baseUrl, apiKey: key.key.apiKey, secret: key.secret! }) };
}

/** For every asset: all accounts' available + frozen plus fee income = deposits − completed withdrawals. */
export async function expectLedgerBalanced(keygate: RunningKeygate): Promise<void> {
  await keygate.app.exchange.idle();
  const { held, broughtIn } = await ledgerTotals(keygate.app.database.db);
  const assets = new Set([...held.keys(), ...broughtIn.keys()]);
  expect(assets.size).toBeGreaterThan(0);
  for (const asset of assets) {
    expect((held.get(asset) ?? new Decimal(0)).toFixed(), asset).toBe((broughtIn.get(asset) ?? new Decimal(0)).toFixed());
  }
  await expectCandlesMatchTrades(keygate.app.database);
  // No balance is ever negative.
  const negative = await keygate.app.database.db.selectFrom('balances').selectAll().execute();
  for (const b of negative) {
    expect(new Decimal(b.available).isNegative() || new Decimal(b.frozen).isNegative(), `${b.user_id}/${b.asset}`).toBe(false);
  }
}

export async function balance(keygate: RunningKeygate, t: Trader, asset: string): Promise<{ available: string; frozen: string }> {
  const row = (await keygate.app.ledger.balances(t.userId)).find((b) => b.asset === asset);
  return { available: row?.available ?? '0', frozen: row?.frozen ?? '0' };
}

/**
 * Candles hold every trade, once: for each market and stored resolution, the candles' trade counts,
 * volumes, highs and lows add up to the trades table's (read in one snapshot, as they commit together).
 */
export async function expectCandlesMatchTrades(database: Database): Promise<void> {
  let begin = database.db.transaction();
  if (database.dialect === 'postgres') begin = begin.setIsolationLevel('repeatable read');
  await begin.execute(async (trx) => {
    const trades = await trx.selectFrom('trades').select(['symbol', 'price', 'quantity', 'quote_quantity']).execute();
    const candles = await trx.selectFrom('candles').selectAll().execute();
    type Totals = { count: number; volume: Decimal; quote: Decimal; high: Decimal | undefined; low: Decimal | undefined };
    const empty = (): Totals => ({ count: 0, volume: new Decimal(0), quote: new Decimal(0), high: undefined, low: undefined });
    const show = (t: Totals) => ({ count: t.count, volume: t.volume.toFixed(), quote: t.quote.toFixed(), high: t.high?.toFixed(), low: t.low?.toFixed() });
    const fromTrades = new Map<string, Totals>();
    for (const t of trades) {
      const totals = fromTrades.get(t.symbol) ?? empty();
      totals.count++;
      totals.volume = totals.volume.plus(t.quantity);
      totals.quote = totals.quote.plus(t.quote_quantity);
      totals.high = totals.high && totals.high.gte(t.price) ? totals.high : new Decimal(t.price);
      totals.low = totals.low && totals.low.lte(t.price) ? totals.low : new Decimal(t.price);
      fromTrades.set(t.symbol, totals);
    }
    const fromCandles = new Map<string, Totals>();
    for (const c of candles) {
      const key = `${c.symbol}/${c.resolution}`;
      const totals = fromCandles.get(key) ?? empty();
      totals.count += Number(c.trades);
      totals.volume = totals.volume.plus(c.volume);
      totals.quote = totals.quote.plus(c.quote_volume);
      totals.high = totals.high && totals.high.gte(c.high) ? totals.high : new Decimal(c.high);
      totals.low = totals.low && totals.low.lte(c.low) ? totals.low : new Decimal(c.low);
      fromCandles.set(key, totals);
    }
    for (const [symbol, totals] of fromTrades) {
      for (const resolution of STORED_RESOLUTIONS) expect(show(fromCandles.get(`${symbol}/${resolution}`) ?? empty()), `${symbol}/${resolution}`).toEqual(show(totals));
    }
    expect(candles.filter((c) => !fromTrades.has(c.symbol))).toEqual([]);
  });
}
