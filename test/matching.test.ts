// The order book: price-time priority, partial fills, every time-in-force, rounding at the market's accuracy.
import { describe, expect, it } from 'vitest';
import { Decimal } from '../src/domain/ledger.js';
import { OrderBook, type RestingOrder } from '../src/domain/matching.js';
import { checkOrder, frozenFor, OrderRuleError, parseOrderType } from '../src/domain/orders.js';
import type { Market } from '../src/domain/markets.js';

const d = (v: string | number) => new Decimal(v);
let seq = 0;
function resting(book: OrderBook, id: string, side: 'buy' | 'sell', price: string, quantity: string, userId = 1): RestingOrder {
  const order = { id, userId, side, price: d(price), remaining: d(quantity), seq: ++seq };
  book.add(order);
  return order;
}
const fills = (plan: ReturnType<OrderBook['plan']>) => plan.fills.map((f) => [f.maker.id, f.price.toFixed(), f.quantity.toFixed(), f.quoteQuantity.toFixed()]);

describe('order book', () => {
  it('fills the best price first, and at one price the earliest order first', () => {
    const book = new OrderBook(4, 6);
    resting(book, 'a1', 'sell', '101', '1');
    resting(book, 'a2', 'sell', '100', '1');
    resting(book, 'a3', 'sell', '100', '1');
    const plan = book.plan({ side: 'buy', timeInForce: 'gtc', price: d('101'), quantity: d('2.5') });
    expect(fills(plan)).toEqual([
      ['a2', '100', '1', '100'],
      ['a3', '100', '1', '100'],
      ['a1', '101', '0.5', '50.5'],
    ]);
    expect(plan.restQuantity.toFixed()).toBe('0');
    book.apply(plan);
    expect(book.depth(5)).toEqual({ bids: [], asks: [['101', '0.5']] });
  });

  it('rests the unfilled part of a limit order behind earlier orders at its price', () => {
    const book = new OrderBook(4, 6);
    resting(book, 'a1', 'sell', '100', '0.3');
    resting(book, 'b1', 'buy', '99', '1');
    const plan = book.plan({ side: 'buy', timeInForce: 'gtc', price: d('100'), quantity: d('1') });
    expect(plan.filledQuantity.toFixed()).toBe('0.3');
    expect(plan.restQuantity.toFixed()).toBe('0.7');
    book.apply(plan, { id: 't', userId: 2, side: 'buy', price: d('100'), seq: ++seq });
    expect(book.depth(5)).toEqual({ bids: [['100', '0.7'], ['99', '1']], asks: [] });
    expect(book.bestBid()?.id).toBe('t');
  });

  it('does not cross a limit price', () => {
    const book = new OrderBook(4, 6);
    resting(book, 'b1', 'buy', '99', '1');
    const plan = book.plan({ side: 'sell', timeInForce: 'gtc', price: d('100'), quantity: d('1') });
    expect(plan.fills).toEqual([]);
    expect(plan.restQuantity.toFixed()).toBe('1');
  });

  it('refuses a post-only order that would take, and rests one that would not', () => {
    const book = new OrderBook(4, 6);
    resting(book, 'a1', 'sell', '100', '1');
    expect(book.plan({ side: 'buy', timeInForce: 'post_only', price: d('100'), quantity: d('1') }).refused).toBe('post_only_would_take');
    const plan = book.plan({ side: 'buy', timeInForce: 'post_only', price: d('99.99'), quantity: d('1') });
    expect(plan.refused).toBeUndefined();
    expect(plan.restQuantity.toFixed()).toBe('1');
  });

  it('fills an immediate-or-cancel order as far as it can and rests nothing', () => {
    const book = new OrderBook(4, 6);
    resting(book, 'a1', 'sell', '100', '0.4');
    const plan = book.plan({ side: 'buy', timeInForce: 'ioc', price: d('100'), quantity: d('1') });
    expect(plan.filledQuantity.toFixed()).toBe('0.4');
    expect(plan.restQuantity.toFixed()).toBe('0');
  });

  it('fills a fill-or-kill order whole or refuses it whole', () => {
    const book = new OrderBook(4, 6);
    resting(book, 'a1', 'sell', '100', '0.4');
    resting(book, 'a2', 'sell', '101', '0.6');
    expect(book.plan({ side: 'buy', timeInForce: 'fok', price: d('100'), quantity: d('1') }).refused).toBe('fok_unfillable');
    const plan = book.plan({ side: 'buy', timeInForce: 'fok', price: d('101'), quantity: d('1') });
    expect(plan.refused).toBeUndefined();
    expect(plan.filledQuantity.toFixed()).toBe('1');
  });

  it('spends a market buy’s quote budget, rounding quantities down to the market’s accuracy', () => {
    const book = new OrderBook(4, 6);
    resting(book, 'a1', 'sell', '100', '0.5');
    resting(book, 'a2', 'sell', '300', '10');
    const plan = book.plan({ side: 'buy', timeInForce: 'ioc', quoteBudget: d('100') });
    // 50 buys 0.5 at 100; the other 50 buys 0.1666 (not 0.16666…) at 300.
    expect(fills(plan)).toEqual([
      ['a1', '100', '0.5', '50'],
      ['a2', '300', '0.1666', '49.98'],
    ]);
    expect(plan.filledQuote.toFixed()).toBe('99.98');
  });

  it('sells at market into the bids until the quantity is gone', () => {
    const book = new OrderBook(4, 6);
    resting(book, 'b1', 'buy', '100', '0.5');
    resting(book, 'b2', 'buy', '90', '0.5');
    const plan = book.plan({ side: 'sell', timeInForce: 'ioc', quantity: d('2') });
    expect(plan.filledQuantity.toFixed()).toBe('1');
    expect(plan.filledQuote.toFixed()).toBe('95');
    expect(plan.restQuantity.toFixed()).toBe('0');
  });

  it('rounds each fill’s quote amount down to the quote asset’s scale', () => {
    const book = new OrderBook(4, 8);
    resting(book, 'a1', 'sell', '0.054321', '0.0003');
    const plan = book.plan({ side: 'buy', timeInForce: 'gtc', price: d('0.06'), quantity: d('0.0003') });
    // 0.054321 × 0.0003 = 0.0000162963 → 0.00001629 at 8 places.
    expect(plan.fills[0]!.quoteQuantity.toFixed()).toBe('0.00001629');
  });

  it('lets an account fill against its own resting order (as LBank does)', () => {
    const book = new OrderBook(4, 6);
    resting(book, 'mine', 'sell', '100', '1', 7);
    const plan = book.plan({ side: 'buy', timeInForce: 'gtc', price: d('100'), quantity: d('1') });
    expect(plan.fills.map((f) => f.maker.userId)).toEqual([7]);
  });

  it('keeps time priority when orders are rebuilt out of sequence', () => {
    const book = new OrderBook(4, 6);
    book.add({ id: 'late', userId: 1, side: 'sell', price: d('100'), remaining: d('1'), seq: 20 });
    book.add({ id: 'early', userId: 1, side: 'sell', price: d('100'), remaining: d('1'), seq: 10 });
    expect(book.bestAsk()?.id).toBe('early');
    book.remove('early');
    expect(book.bestAsk()?.id).toBe('late');
    expect(book.size).toBe(1);
  });
});

describe('order rules', () => {
  const market: Market = { symbol: 'btc_usdt', priceAccuracy: 2, quantityAccuracy: 4, minTranQua: '0.0001' };

  it('knows LBank’s order types', () => {
    expect(parseOrderType('buy')).toMatchObject({ side: 'buy', market: false, timeInForce: 'gtc' });
    expect(parseOrderType('sell_market')).toMatchObject({ side: 'sell', market: true });
    expect(parseOrderType('buy_maker')).toMatchObject({ timeInForce: 'post_only' });
    expect(parseOrderType('sell_ioc')).toMatchObject({ timeInForce: 'ioc' });
    expect(parseOrderType('buy_fok')).toMatchObject({ timeInForce: 'fok' });
    expect(parseOrderType('buy_stop')).toBeUndefined();
  });

  it.each([
    ['hold', '1', '1', 'invalid_type'],
    ['buy', undefined, '1', 'price_or_amount_missing'],
    ['buy', '1', undefined, 'price_or_amount_missing'],
    ['buy', '1.001', '1', 'price_or_amount_invalid'],
    ['buy', '1', '0.00001', 'price_or_amount_invalid'],
    ['buy', '-1', '1', 'price_or_amount_invalid'],
    ['buy', '1e3', '1', 'price_or_amount_invalid'],
    ['buy', '0', '1', 'price_or_amount_invalid'],
    ['buy_market', undefined, '1', 'price_or_amount_missing'],
  ])('refuses type %s price %s amount %s (%s)', (type, price, amount, rule) => {
    expect(() => checkOrder(market, type, price, amount, 6)).toThrow(OrderRuleError);
    try {
      checkOrder(market, type, price, amount, 6);
    } catch (error) {
      expect((error as OrderRuleError).rule).toBe(rule);
    }
  });

  it('refuses an amount below the market minimum', () => {
    const lbk: Market = { symbol: 'lbk_usdt', priceAccuracy: 6, quantityAccuracy: 2, minTranQua: '10' };
    expect(() => checkOrder(lbk, 'buy', '0.01', '9.99', 6)).toThrow(/at least 10/);
  });

  it('freezes what the order may spend, rounded up to the quote scale', () => {
    const eth: Market = { symbol: 'eth_btc', priceAccuracy: 6, quantityAccuracy: 4, minTranQua: '0.0001' };
    const intent = checkOrder(eth, 'buy', '0.054321', '0.0003', 8);
    expect(frozenFor(eth, intent, 8)).toEqual({ asset: 'btc', amount: d('0.00001630') });
    expect(frozenFor(eth, checkOrder(eth, 'sell', '0.05', '1.5', 8), 8)).toEqual({ asset: 'eth', amount: d('1.5') });
    expect(frozenFor(market, checkOrder(market, 'buy_market', '250.5', undefined, 6), 6)).toEqual({ asset: 'usdt', amount: d('250.5') });
  });
});
