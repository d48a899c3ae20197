// Signed endpoints that place and cancel orders (Trade authority).
import type { App } from '../../app.js';
import { toLbankError, LbankError } from './errors.js';
import type { SignedEndpoint } from './signed.js';
import { cancelledOrder, optional, required } from './views.js';

const MAX_BATCH = 50;
const MAX_CUSTOM_ID = 64;

export function tradeEndpoints(app: App): SignedEndpoint[] {
  const place = async (userId: number, params: Readonly<Record<string, string>>) => {
    const customId = optional(params, 'custom_id');
    if (customId !== undefined && customId.length > MAX_CUSTOM_ID) throw new LbankError(10003, `custom_id must be at most ${MAX_CUSTOM_ID} characters`);
    const order = await app.exchange.placeOrder(userId, {
      symbol: required(params, 'symbol'),
      type: required(params, 'type'),
      price: optional(params, 'price'),
      amount: optional(params, 'amount'),
      customId,
    });
    return { symbol: order.symbol, order_id: order.order_id, ...(order.custom_id !== null ? { custom_id: order.custom_id } : {}) };
  };

  return [
    // LBank answers these with the boolean result (see booleanResult), as ccxt's recorded responses show.
    { path: 'create_order', authority: 'trade', rateClass: 'orders', booleanResult: true, handler: ({ key, params }) => place(key.userId, params) },
    { path: 'supplement/create_order', authority: 'trade', rateClass: 'orders', booleanResult: true, handler: ({ key, params }) => place(key.userId, params) },
    {
      // Validates an order as placing it would (pair, type, price, amount, accuracy), and places nothing.
      path: 'supplement/create_order_test',
      authority: 'trade',
      rateClass: 'orders',
      async handler({ params }) {
        app.exchange.check({ symbol: required(params, 'symbol'), type: required(params, 'type'), price: optional(params, 'price'), amount: optional(params, 'amount') });
        return { symbol: required(params, 'symbol').toLowerCase(), order_id: null, ...(optional(params, 'custom_id') ? { custom_id: optional(params, 'custom_id') } : {}) };
      },
    },
    {
      path: 'batch_create_order',
      authority: 'trade',
      rateClass: 'orders',
      async handler({ key, params }) {
        let orders: unknown;
        try {
          orders = JSON.parse(required(params, 'orders'));
        } catch {
          throw new LbankError(10003, 'orders must be a JSON array of {symbol, type, price, amount, custom_id}');
        }
        if (!Array.isArray(orders) || orders.length === 0 || orders.length > MAX_BATCH) {
          throw new LbankError(10003, `orders must be a JSON array of 1 to ${MAX_BATCH} orders`);
        }
        // Each order succeeds or fails on its own, answered in the order given.
        return Promise.all(
          orders.map(async (entry: unknown) => {
            const fields = Object.fromEntries(
              Object.entries(typeof entry === 'object' && entry !== null ? entry : {}).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
            );
            try {
              return { result: 'true', error_code: 0, data: await place(key.userId, fields) };
            } catch (error) {
              const lbank = toLbankError(error);
              if (!lbank) throw error;
              return { result: 'false', error_code: lbank.code, msg: lbank.message };
            }
          }),
        );
      },
    },
    {
      path: 'supplement/cancel_order',
      booleanResult: true,
      authority: 'trade',
      rateClass: 'orders',
      async handler({ key, params }) {
        const orderId = optional(params, 'orderId');
        const customId = optional(params, 'origClientOrderId');
        if (!orderId && !customId) throw new LbankError(10001, 'orderId or origClientOrderId');
        return cancelledOrder(await app.exchange.cancelOrder(key.userId, orderId ? { orderId } : { customId: customId! }, required(params, 'symbol')));
      },
    },
    {
      path: 'supplement/cancel_order_by_symbol',
      authority: 'trade',
      rateClass: 'orders',
      async handler({ key, params }) {
        return (await app.exchange.cancelAll(key.userId, required(params, 'symbol'))).map(cancelledOrder);
      },
    },
    {
      // The original endpoint takes up to three order ids separated by commas.
      path: 'cancel_order',
      authority: 'trade',
      rateClass: 'orders',
      async handler({ key, params }) {
        const symbol = required(params, 'symbol');
        const ids = required(params, 'order_id').split(',').filter(Boolean);
        if (ids.length > 3) throw new LbankError(10019);
        if (ids.length === 1) {
          await app.exchange.cancelOrder(key.userId, { orderId: ids[0]! }, symbol);
          return { order_id: ids[0] };
        }
        const success: string[] = [];
        const error: string[] = [];
        for (const id of ids) {
          try {
            await app.exchange.cancelOrder(key.userId, { orderId: id }, symbol);
            success.push(id);
          } catch (e) {
            if (!toLbankError(e)) throw e;
            error.push(id);
          }
        }
        return { success: success.join(','), error: error.join(',') };
      },
    },
    {
      path: 'cancel_clientOrders',
      authority: 'trade',
      rateClass: 'orders',
      async handler({ key, params }) {
        const customId = required(params, 'customer_id');
        await app.exchange.cancelOrder(key.userId, { customId }, required(params, 'symbol'));
        return { customer_id: customId };
      },
    },
  ];
}
