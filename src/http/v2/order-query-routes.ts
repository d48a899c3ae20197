// Signed endpoints that read the account's orders, trades and fees (Read authority).
import type { App } from '../../app.js';
import { Decimal } from '../../domain/ledger.js';
import { LbankError } from './errors.js';
import type { SignedEndpoint } from './signed.js';
import { legacyOrder, legacyTrade, optional, paging, required, supplementOrder, supplementTrade, integerParam } from './views.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** LBank reads dates in its own time zone, UTC+8. */
const LBANK_OFFSET_MS = 8 * 60 * 60 * 1000;

/** Parses "yyyy-mm-dd" (the whole day) or "yyyy-mm-dd HH:mm:ss" in UTC+8, as LBank does. */
function lbankTime(text: string, name: string, endOfDay: boolean): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2}):(\d{2}))?$/.exec(text);
  if (!match) throw new LbankError(10028, `${name} must be yyyy-mm-dd or yyyy-mm-dd HH:mm:ss`);
  const [y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0] = match.slice(1).map(Number);
  const time = match[4] === undefined ? Date.UTC(y, mo - 1, d) + (endOfDay ? DAY_MS - 1 : 0) : Date.UTC(y, mo - 1, d, h, mi, s);
  if (Number.isNaN(time)) throw new LbankError(10028, `${name} is not a date`);
  return time - LBANK_OFFSET_MS;
}

/** A trade-history window: at most two days, by default from yesterday's start until now. */
function window(app: App, params: Readonly<Record<string, string>>, startName: string, endName: string): { since: number; until: number } {
  const now = app.now();
  const start = optional(params, startName);
  const end = optional(params, endName);
  const todayStart = Math.floor((now + LBANK_OFFSET_MS) / DAY_MS) * DAY_MS - LBANK_OFFSET_MS;
  const since = start ? lbankTime(start, startName, false) : todayStart - DAY_MS;
  const until = end ? lbankTime(end, endName, true) : now;
  if (until < since || until - since > 2 * DAY_MS) throw new LbankError(10028, `${startName} to ${endName} must span at most two days`);
  return { since, until };
}

export function orderQueryEndpoints(app: App): SignedEndpoint[] {
  /** Open orders, or the history: finished orders, or those of one status when `status` is given. */
  const listing = async (userId: number, params: Readonly<Record<string, string>>, open: boolean) => {
    const { page, pageLength } = paging(params);
    const statusText = open ? undefined : optional(params, 'status');
    if (statusText !== undefined && !/^(-1|[0-4])$/.test(statusText)) throw new LbankError(10003, 'status must be one of -1, 0, 1, 2, 3, 4');
    const { rows, total } = await app.exchange.orders({
      userId,
      symbol: required(params, 'symbol'),
      ...(statusText !== undefined ? { status: Number(statusText) } : { state: open ? 'open' : 'closed' }),
      offset: (page - 1) * pageLength,
      limit: pageLength,
    });
    return { total, page_length: pageLength, current_page: page, rows };
  };

  return [
    {
      path: 'supplement/orders_info',
      booleanResult: true,
      authority: 'read',
      async handler({ key, params }) {
        const orderId = optional(params, 'orderId');
        const customId = optional(params, 'origClientOrderId');
        if (!orderId && !customId) throw new LbankError(10001, 'orderId or origClientOrderId');
        return supplementOrder(await app.exchange.order(key.userId, orderId ? { orderId } : { customId: customId! }, required(params, 'symbol')));
      },
    },
    {
      path: 'orders_info',
      booleanResult: true,
      authority: 'read',
      async handler({ key, params }) {
        const symbol = required(params, 'symbol');
        const ids = required(params, 'order_id').split(',').filter(Boolean);
        if (ids.length > 3) throw new LbankError(10003, 'at most 3 order ids');
        return Promise.all(ids.map(async (orderId) => legacyOrder(await app.exchange.order(key.userId, { orderId }, symbol))));
      },
    },
    ...(['supplement/orders_info_no_deal', 'orders_info_no_deal', 'supplement/orders_info_history', 'orders_info_history'] as const).map(
      (path): SignedEndpoint => ({
        path,
        authority: 'read',
        booleanResult: path.startsWith('supplement/'),
        async handler({ key, params }) {
          const { rows, ...page } = await listing(key.userId, params, path.endsWith('no_deal'));
          return { ...page, orders: path.startsWith('supplement/') ? rows.map(supplementOrder) : rows.map(legacyOrder) };
        },
      }),
    ),
    {
      path: 'order_transaction_detail',
      authority: 'read',
      async handler({ key, params }) {
        const { trades, orderTypes } = await app.exchange.trades(key.userId, { symbol: required(params, 'symbol'), orderId: required(params, 'order_id') });
        return trades.map((t) => legacyTrade(t, key.userId, orderTypes));
      },
    },
    {
      path: 'transaction_history',
      booleanResult: true,
      authority: 'read',
      async handler({ key, params }) {
        const { since, until } = window(app, params, 'start_date', 'end_date');
        const limit = integerParam(params, 'size', 100, 1, 100);
        const type = optional(params, 'type');
        const { trades, orderTypes } = await app.exchange.trades(key.userId, { symbol: required(params, 'symbol'), since, until, limit });
        return trades.map((t) => legacyTrade(t, key.userId, orderTypes)).filter((t) => type === undefined || t.tradeType.startsWith(type));
      },
    },
    {
      path: 'supplement/transaction_history',
      authority: 'read',
      async handler({ key, params }) {
        const { since, until } = window(app, params, 'startTime', 'endTime');
        const limit = integerParam(params, 'limit', 100, 1, 100);
        const { trades, orderTypes } = await app.exchange.trades(key.userId, { symbol: required(params, 'symbol'), since, until, limit });
        return trades.map((t) => supplementTrade(t, key.userId, orderTypes));
      },
    },
    {
      path: 'supplement/customer_trade_fee',
      authority: 'read',
      async handler({ key, params }) {
        const rates = await app.exchange.feeRates(key.userId);
        const category = optional(params, 'category');
        const markets = category ? [app.exchange.market(category)] : app.exchange.markets;
        // LBank writes fees in percent: "0.10" is 0.1%.
        const percent = (rate: string) => new Decimal(rate).times(100).toFixed(2);
        return markets.map((m) => ({ symbol: m.symbol, makerCommission: percent(rates.maker), takerCommission: percent(rates.taker) }));
      },
    },
  ];
}
