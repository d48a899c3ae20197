// Trading on a fleet: every server accepts orders and serves market data for every market; each
// market's engine runs on one server, markets spread over the fleet, and when the server running a
// market is killed (kill -9) mid-load another takes it over within 5 s, with every acknowledged order
// present, nothing filled twice, the ledger balanced and the candles holding every trade once.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LbankClient } from '../src/client/index.js';
import { Decimal } from '../src/domain/ledger.js';
import { ledgerTotals } from '../src/storage/ledger.js';
import { expectCandlesMatchTrades } from './support/exchange.js';
import { serverIdOf, startFleet, until, type Fleet, type FleetServer } from './support/fleet.js';

interface Funded {
  userId: number;
  on(server: FleetServer): LbankClient;
}

let counter = 0;
async function funded(fleet: Fleet, funds: Record<string, string>): Promise<Funded> {
  const user = await fleet.admin.accounts.create(`fleet-trader-${++counter}-${Date.now()}@example.com`, undefined);
  for (const [asset, amount] of Object.entries(funds)) await fleet.admin.ledger.credit(user.id, asset, amount);
  const key = await fleet.admin.apiKeys.create(user.id, { name: 'bot', method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read', 'trade'] });
  return { userId: user.id, on: (server) => new LbankClient({ baseUrl: server.baseUrl, apiKey: key.key.apiKey, secret: key.secret! }) };
}

async function holders(fleet: Fleet): Promise<Map<string, string>> {
  const rows = await fleet.admin.database.db.selectFrom('market_leases').select(['symbol', 'holder']).execute();
  return new Map(rows.map((r) => [r.symbol, r.holder]));
}


async function expectLedgerBalanced(fleet: Fleet): Promise<void> {
  const { held, broughtIn } = await ledgerTotals(fleet.admin.database.db);
  for (const asset of new Set([...held.keys(), ...broughtIn.keys()])) {
    expect((held.get(asset) ?? new Decimal(0)).toFixed(), asset).toBe((broughtIn.get(asset) ?? new Decimal(0)).toFixed());
  }
  await expectCandlesMatchTrades(fleet.admin.database);
  const negative = await fleet.admin.database.db.selectFrom('balances').selectAll().execute();
  expect(negative.filter((b) => new Decimal(b.available).isNegative() || new Decimal(b.frozen).isNegative())).toEqual([]);
}

/** Every order's executed quantity is exactly what its trades add up to, and never more than it asked. */
async function expectNoDoubleFill(fleet: Fleet): Promise<void> {
  const { rows } = await sql<{ order_id: string; quantity: string | null; executed_qty: string; traded: string | null }>`
    SELECT o.order_id, o.quantity, o.executed_qty,
      (SELECT sum(CAST(t.quantity AS NUMERIC)) FROM trades t WHERE t.maker_order_id = o.order_id OR t.taker_order_id = o.order_id) AS traded
    FROM orders o`.execute(fleet.admin.database.db);
  for (const row of rows) {
    expect(new Decimal(row.executed_qty).eq(row.traded ?? 0), row.order_id).toBe(true);
    if (row.quantity !== null) expect(new Decimal(row.executed_qty).lte(row.quantity), row.order_id).toBe(true);
  }
}

describe('trading on a fleet of two servers', () => {
  let fleet: Fleet;
  let a: FleetServer;
  let b: FleetServer;

  beforeAll(async () => {
    fleet = await startFleet(2, { env: { KEYGATE_RATE_LIMITS: 'off' } });
    [a, b] = fleet.servers as [FleetServer, FleetServer];
  });
  afterAll(async () => fleet?.stop());

  it('spreads the markets\' engines over the servers', async () => {
    const ids = [serverIdOf(a), serverIdOf(b)];
    const spread = await until('markets to spread over both servers', async () => {
      const held = await holders(fleet);
      const counts = ids.map((id) => [...held.values()].filter((h) => h === id).length);
      return held.size === 6 && counts.every((c) => c === 3) ? counts : undefined;
    });
    expect(spread).toEqual([3, 3]);
  });

  it('matches orders placed on different servers against each other, in every market, and serves market data everywhere', async () => {
    const seller = await funded(fleet, { btc: '10', eth: '100', sol: '1000' });
    const buyer = await funded(fleet, { usdt: '1000000' });
    for (const symbol of ['btc_usdt', 'eth_usdt', 'sol_usdt']) {
      await seller.on(a).call('supplement/create_order', { symbol, type: 'sell', price: '100', amount: '2' });
      const placed = await buyer.on(b).call<{ order_id: string }>('supplement/create_order', { symbol, type: 'buy', price: '100', amount: '1.5' });
      // The answer came after the engine's word, wherever it runs: the fill is visible on either server.
      for (const server of [a, b]) {
        const info = await buyer.on(server).call<{ status: number; executedQty: string }>('supplement/orders_info', { symbol, orderId: placed.order_id });
        expect(info).toMatchObject({ status: 2, executedQty: '1.5' });
        const depth = (await (await fetch(`${server.baseUrl}/v2/depth.do?symbol=${symbol}&size=5`)).json()) as { data: { asks: string[][] } };
        expect(depth.data.asks).toEqual([['100', '0.5']]);
        const trades = (await (await fetch(`${server.baseUrl}/v2/trades.do?symbol=${symbol}&size=5`)).json()) as { data: Array<{ amount: string }> };
        expect(trades.data[0]).toMatchObject({ amount: '1.5' });
      }
    }
    // A cancellation asked on the server that does not run the market.
    const resting = await seller.on(a).call<{ order_id: string }>('supplement/create_order', { symbol: 'btc_usdt', type: 'sell', price: '200', amount: '1' });
    const cancelled = await seller.on(b).call<{ orderId: string; status: number }>('supplement/cancel_order', { symbol: 'btc_usdt', orderId: resting.order_id });
    expect(cancelled).toMatchObject({ orderId: resting.order_id, status: -1 });
    const info = await seller.on(a).call<{ status: number }>('supplement/orders_info', { symbol: 'btc_usdt', orderId: resting.order_id });
    expect(info.status).toBe(-1);
    await expectLedgerBalanced(fleet);
    await expectNoDoubleFill(fleet);
  });

  it('loses no acknowledged order when the server running a market is killed mid-load, and resumes it within 5 s', async () => {
    const ids = new Map([[serverIdOf(a), a], [serverIdOf(b), b]]);
    const holder = ids.get((await holders(fleet)).get('btc_usdt')!)!;
    const survivor = holder === a ? b : a;
    const traders = await Promise.all(Array.from({ length: 4 }, () => funded(fleet, { btc: '1000', usdt: '100000000' })));
    const acknowledged: string[] = [];
    let killed = false;
    let running = true;
    const workers = traders.map(async (t, i) => {
      let n = 0;
      while (running) {
        // Until the kill, orders go to both servers; then only to the one left, as a load balancer would.
        const server = killed ? survivor : [a, b][n % 2]!;
        const side = (n + i) % 2 ? 'buy' : 'sell';
        n++;
        try {
          const placed = await t.on(server).call<{ order_id: string }>('supplement/create_order', { symbol: 'btc_usdt', type: side, price: String(100 + (n % 3)), amount: '0.1' });
          acknowledged.push(placed.order_id);
        } catch {
          // A request to the killed server is not acknowledged: nothing is promised for it.
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1000));
    holder.signal('SIGKILL');
    killed = true;
    const killedAt = Date.now();
    await holder.exited;

    // The market resumes on the survivor: a crossing pair placed there fills.
    const [x, y] = traders as [Funded, Funded];
    const resumedAfter = await until('the market to resume', async () => {
      await x.on(survivor).call('supplement/create_order', { symbol: 'btc_usdt', type: 'sell', price: '90', amount: '0.1' });
      const buy = await y.on(survivor).call<{ order_id: string }>('supplement/create_order', { symbol: 'btc_usdt', type: 'buy', price: '1000', amount: '0.1' });
      const info = await y.on(survivor).call<{ status: number }>('supplement/orders_info', { symbol: 'btc_usdt', orderId: buy.order_id });
      return info.status === 2 ? Date.now() - killedAt : undefined;
    }, 15_000);
    expect(resumedAfter).toBeLessThan(5000);
    running = false;
    await Promise.all(workers);

    // Everything acknowledged is stored and has been through the engine; nothing waits any more.
    await until('no order left waiting', async () => {
      const waiting = await fleet.admin.database.db.selectFrom('orders').select('id').where('matched', '=', 0).execute();
      const cancels = await fleet.admin.database.db.selectFrom('order_cancels').select('id').execute();
      return waiting.length === 0 && cancels.length === 0 ? true : undefined;
    });
    expect(acknowledged.length).toBeGreaterThan(20);
    const stored = await fleet.admin.database.db.selectFrom('orders').select('order_id').where('order_id', 'in', acknowledged).execute();
    expect(stored).toHaveLength(acknowledged.length);
    expect((await holders(fleet)).get('btc_usdt')).toBe(serverIdOf(survivor));
    await expectNoDoubleFill(fleet);
    await expectLedgerBalanced(fleet);
  });
});
