// Every /v2 endpoint, signed or public, fed malformed parameters: a clear LBank error, never a 5xx,
// and the ledger untouched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_KINDS } from './support/databases.js';
import { expectLedgerBalanced, trader, type Trader } from './support/exchange.js';
import { signedPost } from './support/requests.js';
import { startKeygate, type RunningKeygate } from './support/server.js';

const SIGNED = [
  'create_order', 'supplement/create_order', 'supplement/create_order_test', 'batch_create_order', 'cancel_order', 'supplement/cancel_order',
  'supplement/cancel_order_by_symbol', 'cancel_clientOrders', 'orders_info', 'supplement/orders_info', 'orders_info_no_deal',
  'supplement/orders_info_no_deal', 'orders_info_history', 'supplement/orders_info_history', 'order_transaction_detail', 'transaction_history',
  'supplement/transaction_history', 'supplement/customer_trade_fee', 'supplement/deposit_history', 'deposit_history', 'supplement/get_deposit_address',
  'get_deposit_address', 'supplement/withdraws', 'withdraws', 'supplement/withdraw', 'withdraw', 'withdrawCancel', 'user_info', 'supplement/user_info',
  'supplement/user_info_account', 'supplement/api_Restrictions',
];
const PUBLIC = ['ticker/24hr', 'ticker', 'depth', 'trades', 'supplement/trades', 'supplement/ticker/price', 'supplement/ticker/bookTicker', 'withdrawConfigs', 'accuracy'];

/** Values that have broken parsers elsewhere: empty-ish, huge, negative, exponent, non-ASCII, SQL-ish, JSON-ish. */
const NASTY = ['', ' ', 'a\u0000b', '0', '-1', '1e308', '99999999999999999999999', 'NaN', '0x10', '1.', '.5', '💥', "'; drop table orders; --", '{"a":1}', '[1,2]', 'x'.repeat(5000), '2026-13-45', 'null'];
const NAMES = ['symbol', 'type', 'price', 'amount', 'custom_id', 'orderId', 'order_id', 'origClientOrderId', 'customer_id', 'current_page', 'page_length', 'status', 'start_date', 'end_date', 'startTime', 'endTime', 'size', 'time', 'orders', 'coin', 'assetCode', 'networkName', 'netWork', 'address', 'account', 'fee', 'withdrawId', 'withdrawOrderId', 'category', 'limit'];

describe.each(DATABASE_KINDS)('bad input to /v2 on %s', (kind) => {
  let keygate: RunningKeygate;
  let t: Trader;

  beforeAll(async () => {
    keygate = await startKeygate(kind, { env: { LOG_LEVEL: 'error' } });
    t = await trader(keygate, { usdt: '1000', btc: '1' }, ['read', 'trade', 'withdraw', 'transfer']);
  });
  afterAll(async () => keygate?.stop());

  it('answers every signed endpoint with an envelope and a status below 500', async () => {
    let seed = 7;
    const pick = <T>(list: readonly T[]) => list[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % list.length]!;
    for (const path of SIGNED) {
      for (let round = 0; round < 6; round++) {
        const params: Record<string, string> = {};
        for (const name of NAMES) if (pick([true, false, false])) params[name] = pick(NASTY);
        if (round === 0) params.symbol = 'btc_usdt';
        const reply = await signedPost(keygate.baseUrl, path, t.client, { params });
        expect(reply.status, `${path} ${JSON.stringify(params).slice(0, 200)}`).toBeLessThan(500);
        // LBank answers some endpoints with the boolean true (docs/rest-api.md), every refusal with "false".
        expect(['true', 'false', true]).toContain(reply.body.result);
        if (reply.body.result === 'false') expect(reply.body.error_code).not.toBe(10000);
      }
    }
    expect(keygate.logs.filter((l) => l.includes('"level":50'))).toEqual([]);
    await expectLedgerBalanced(keygate);
  });

  it('answers every public endpoint with an envelope and a status below 500', async () => {
    for (const path of PUBLIC) {
      for (const value of NASTY) {
        const plain = new URLSearchParams({ symbol: value, size: value, time: value, assetCode: value }).toString();
        for (const query of [plain, `${plain}&symbol=twice`, `symbol=btc_usdt&size=${encodeURIComponent(value)}&time=${encodeURIComponent(value)}`]) {
          const response = await fetch(`${keygate.baseUrl}/v2/${path}.do?${query}`);
          expect(response.status, `${path} ${query.slice(0, 60)}`).toBeLessThan(500);
          const body = (await response.json()) as { result: string; error_code: number };
          if (body.result === 'false') expect(body.error_code).not.toBe(10000);
        }
      }
    }
  });
});
