// Spot orders as LBank names them, and the rules an order must meet before it reaches the book.
import { amountTextProblem, Decimal } from './ledger.js';
import { marketAssets, type Market } from './markets.js';

export type Side = 'buy' | 'sell';
/** gtc: rests until filled or cancelled; ioc: fills what it can now; fok: all now or nothing; post_only: only rests. */
export type TimeInForce = 'gtc' | 'ioc' | 'fok' | 'post_only';

export interface OrderType {
  /** LBank's type string, e.g. "buy", "sell_market", "buy_maker". */
  name: string;
  side: Side;
  market: boolean;
  timeInForce: TimeInForce;
}

const SUFFIXES: Record<string, { market: boolean; timeInForce: TimeInForce }> = {
  '': { market: false, timeInForce: 'gtc' },
  _market: { market: true, timeInForce: 'ioc' },
  _maker: { market: false, timeInForce: 'post_only' },
  _ioc: { market: false, timeInForce: 'ioc' },
  _fok: { market: false, timeInForce: 'fok' },
};

export function parseOrderType(name: string): OrderType | undefined {
  const match = /^(buy|sell)(_market|_maker|_ioc|_fok)?$/.exec(name);
  if (!match) return undefined;
  const suffix = SUFFIXES[match[2] ?? ''];
  return suffix && { name, side: match[1] as Side, ...suffix };
}

/** LBank's order status codes. */
export const OrderStatus = {
  cancelled: -1,
  unfilled: 0,
  partiallyFilled: 1,
  filled: 2,
  partiallyFilledCancelled: 3,
  cancelling: 4,
} as const;
export type OrderStatusCode = (typeof OrderStatus)[keyof typeof OrderStatus];

export function isFinal(status: number): boolean {
  return status === OrderStatus.cancelled || status === OrderStatus.filled || status === OrderStatus.partiallyFilledCancelled;
}

export type OrderRuleCode = 'invalid_type' | 'price_or_amount_missing' | 'price_or_amount_invalid' | 'amount_too_small' | 'amount_too_large';

export class OrderRuleError extends Error {
  constructor(
    readonly rule: OrderRuleCode,
    message: string,
  ) {
    super(message);
    this.name = 'OrderRuleError';
  }
}

function decimalParam(text: string | undefined, what: string, places: number): Decimal | undefined {
  if (text === undefined || text === '') return undefined;
  const problem = amountTextProblem(text, what);
  if (problem) throw new OrderRuleError(problem.rule === 'too_large' ? 'amount_too_large' : 'price_or_amount_invalid', problem.message);
  const value = new Decimal(text);
  if (value.decimalPlaces() > places) throw new OrderRuleError('price_or_amount_invalid', `${what} has more than ${places} decimal places`);
  if (value.lte(0)) throw new OrderRuleError('price_or_amount_invalid', `${what} must be greater than zero`);
  return value;
}

/** What an order asks for, checked against its market. */
export interface OrderIntent {
  type: OrderType;
  /** Limit price; absent for market orders. */
  price?: Decimal;
  /** Base quantity; absent for market buys. */
  quantity?: Decimal;
  /** Market buys: the quote amount to spend (LBank sends it as `price`). */
  quoteBudget?: Decimal;
}

export function checkOrder(market: Market, typeName: string, priceText: string | undefined, amountText: string | undefined, quoteScale: number): OrderIntent {
  const type = parseOrderType(typeName);
  if (!type) throw new OrderRuleError('invalid_type', `"${typeName.slice(0, 20)}" is not an order type (buy, sell, buy_market, sell_market, buy_maker, sell_maker, buy_ioc, sell_ioc, buy_fok, sell_fok)`);
  if (type.market && type.side === 'buy') {
    const quoteBudget = decimalParam(priceText, 'price (the quote amount to spend)', quoteScale);
    if (!quoteBudget) throw new OrderRuleError('price_or_amount_missing', 'a market buy needs price: the amount of quote currency to spend');
    return { type, quoteBudget };
  }
  const quantity = decimalParam(amountText, 'amount', market.quantityAccuracy);
  if (!quantity) throw new OrderRuleError('price_or_amount_missing', 'amount is required');
  if (quantity.lt(market.minTranQua)) throw new OrderRuleError('amount_too_small', `amount must be at least ${market.minTranQua}`);
  if (type.market) return { type, quantity };
  const price = decimalParam(priceText, 'price', market.priceAccuracy);
  if (!price) throw new OrderRuleError('price_or_amount_missing', 'price is required for a limit order');
  return { type, price, quantity };
}

/** What placing an order freezes: the base to sell, or the quote a buy may spend. */
export function frozenFor(market: Market, intent: OrderIntent, quoteScale: number): { asset: string; amount: Decimal } {
  const { base, quote } = marketAssets(market.symbol);
  if (intent.type.side === 'sell') return { asset: base, amount: intent.quantity! };
  if (intent.quoteBudget) return { asset: quote, amount: intent.quoteBudget };
  return { asset: quote, amount: intent.price!.times(intent.quantity!).toDecimalPlaces(quoteScale, Decimal.ROUND_UP) };
}
