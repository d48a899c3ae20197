// Fee income under concurrency: the market engines' batches and the administrator's withdrawal
// completions (another process, as `admin withdrawal complete` is) add fees to the same asset at the
// same time; none of the additions may be lost. Real HTTP orders and real concurrent transactions.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { Decimal } from '../src/domain/ledger.js';
import { DATABASE_KINDS } from './support/databases.js';
import { expectLedgerBalanced, trader, type Trader } from './support/exchange.js';
import { startKeygate, type RunningKeygate } from './support/server.js';

const WITHDRAWALS = 48;
const PAIRS = 12;
/** Networks whose fees have decimals, so that a lost or rounded addition shows. */
const NETWORKS = [
  { name: 'bep20(bsc)', fee: '0.5' },
  { name: 'erc20', fee: '5' },
  { name: 'trc20', fee: '1' },
];

describe.each(DATABASE_KINDS)('fee income on %s', (kind) => {
  let keygate: RunningKeygate;
  let admin: App;

  beforeAll(async () => {
    keygate = await startKeygate(kind);
    // The administrator's commands run in a process of their own, with their own connections.
    admin = await createApp(loadConfig(keygate.env), { logger: pino({ level: 'silent' }), exchange: false });
  });
  afterAll(async () => {
    await admin?.close();
    await keygate?.stop();
  });

  it('keeps every fee when withdrawals complete while trades settle', async () => {
    const holders: Array<{ userId: number; withdrawalId: number; fee: string }> = [];
    for (let i = 0; i < WITHDRAWALS; i++) {
      const holder = await trader(keygate, { usdt: '1000' });
      const network = NETWORKS[i % NETWORKS.length]!;
      const row = await keygate.app.withdrawals.request(holder.userId, { coin: 'usdt', amount: '100.123456', address: `addr${i}x`, networkName: network.name, internal: false });
      holders.push({ userId: holder.userId, withdrawalId: row.id, fee: network.fee });
    }
    const pairs: Array<{ seller: Trader; buyer: Trader }> = [];
    for (let i = 0; i < PAIRS; i++) pairs.push({ seller: await trader(keygate, { btc: '1' }), buyer: await trader(keygate, { usdt: '100000' }) });
    // Resting asks first, so that every buy below takes and both sides pay a fee.
    await Promise.all(pairs.map(({ seller }, i) => seller.client.call('supplement/create_order', { symbol: 'btc_usdt', type: 'sell', price: (30000 + i).toFixed(2), amount: '0.0123' })));
    const before = await feeIncome(keygate, 'usdt');

    // Everything at once: completions from the administrator's process and orders over HTTP.
    await Promise.all([
      ...holders.map((h) => admin.withdrawals.complete(h.withdrawalId)),
      ...pairs.map(({ buyer }) => buyer.client.call('supplement/create_order', { symbol: 'btc_usdt', type: 'buy', price: '31000', amount: '0.0123' })),
    ]);
    await keygate.app.exchange.idle();

    const trades = await keygate.app.database.db.selectFrom('trades').selectAll().where('symbol', '=', 'btc_usdt').execute();
    expect(trades).toHaveLength(PAIRS);
    let expected = new Decimal(before);
    for (const h of holders) expected = expected.plus(h.fee);
    for (const t of trades) {
      if (t.maker_fee_asset === 'usdt') expected = expected.plus(t.maker_fee);
      if (t.taker_fee_asset === 'usdt') expected = expected.plus(t.taker_fee);
    }
    expect(await feeIncome(keygate, 'usdt')).toBe(expected.toFixed());
    await expectLedgerBalanced(keygate);
  });
});

async function feeIncome(keygate: RunningKeygate, asset: string): Promise<string> {
  const row = await keygate.app.database.db.selectFrom('fee_income').select('amount').where('asset', '=', asset).executeTakeFirst();
  return row?.amount ?? '0';
}
