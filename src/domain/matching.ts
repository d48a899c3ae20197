// The order book of one market: price-time priority, computed as a plan first and applied after,
// so that a placement whose storage fails leaves the book as it was.
// Self-trade is allowed, as on LBank: an account's order may fill against its own resting order.
import { Decimal } from './ledger.js';
import type { Side, TimeInForce } from './orders.js';

export interface RestingOrder {
  id: string;
  userId: number;
  side: Side;
  price: Decimal;
  remaining: Decimal;
  /** Arrival order: lower is earlier. */
  seq: number;
}

export interface Fill {
  maker: RestingOrder;
  price: Decimal;
  quantity: Decimal;
  /** price × quantity, rounded down to the quote asset's scale: what the buyer pays and the seller gets before fees. */
  quoteQuantity: Decimal;
}

export interface Taker {
  side: Side;
  timeInForce: TimeInForce;
  /** Limit price; absent for market orders. */
  price?: Decimal;
  /** Base quantity; absent for a market buy. */
  quantity?: Decimal;
  /** Market buy: quote to spend. */
  quoteBudget?: Decimal;
}

export interface MatchPlan {
  fills: Fill[];
  filledQuantity: Decimal;
  filledQuote: Decimal;
  /** Quantity that rests on the book afterwards (good-till-cancelled limit orders only). */
  restQuantity: Decimal;
  /** Set when the order is refused as a whole: a post-only order that would take, a fill-or-kill that cannot fill. */
  refused?: 'post_only_would_take' | 'fok_unfillable';
}

interface Level {
  price: Decimal;
  orders: RestingOrder[];
}

const ZERO = new Decimal(0);

class BookSide {
  /** Best first: highest bid, lowest ask. */
  readonly levels: Level[] = [];

  constructor(private readonly side: Side) {}

  #better(a: Decimal, b: Decimal): boolean {
    return this.side === 'buy' ? a.gt(b) : a.lt(b);
  }

  /** Index of the level at this price, or where it would be inserted. */
  #search(price: Decimal): { index: number; found: boolean } {
    let low = 0;
    let high = this.levels.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const level = this.levels[mid]!;
      if (level.price.eq(price)) return { index: mid, found: true };
      if (this.#better(level.price, price)) low = mid + 1;
      else high = mid;
    }
    return { index: low, found: false };
  }

  add(order: RestingOrder): void {
    const { index, found } = this.#search(order.price);
    if (found) {
      const orders = this.levels[index]!.orders;
      // Orders rebuilt from storage may arrive out of sequence; keep time priority within the level.
      let at = orders.length;
      while (at > 0 && orders[at - 1]!.seq > order.seq) at--;
      orders.splice(at, 0, order);
    } else {
      this.levels.splice(index, 0, { price: order.price, orders: [order] });
    }
  }

  remove(order: RestingOrder): void {
    const { index, found } = this.#search(order.price);
    if (!found) return;
    const level = this.levels[index]!;
    const at = level.orders.indexOf(order);
    if (at >= 0) level.orders.splice(at, 1);
    if (level.orders.length === 0) this.levels.splice(index, 1);
  }
}

export class OrderBook {
  readonly bids = new BookSide('buy');
  readonly asks = new BookSide('sell');
  readonly #orders = new Map<string, RestingOrder>();

  constructor(
    private readonly quantityAccuracy: number,
    private readonly quoteScale: number,
  ) {}

  get size(): number {
    return this.#orders.size;
  }

  /** Empties the book (before it is rebuilt from storage). */
  clear(): void {
    this.bids.levels.length = 0;
    this.asks.levels.length = 0;
    this.#orders.clear();
  }

  get(orderId: string): RestingOrder | undefined {
    return this.#orders.get(orderId);
  }

  add(order: RestingOrder): void {
    this.#orders.set(order.id, order);
    (order.side === 'buy' ? this.bids : this.asks).add(order);
  }

  remove(orderId: string): RestingOrder | undefined {
    const order = this.#orders.get(orderId);
    if (!order) return undefined;
    this.#orders.delete(orderId);
    (order.side === 'buy' ? this.bids : this.asks).remove(order);
    return order;
  }

  /** Computes what an incoming order would do, without changing the book. */
  plan(taker: Taker): MatchPlan {
    const opposite = taker.side === 'buy' ? this.asks : this.bids;
    const crosses = (price: Decimal) => taker.price === undefined || (taker.side === 'buy' ? price.lte(taker.price) : price.gte(taker.price));
    const empty: MatchPlan = { fills: [], filledQuantity: ZERO, filledQuote: ZERO, restQuantity: ZERO };

    if (taker.timeInForce === 'post_only') {
      const best = opposite.levels[0];
      if (best && crosses(best.price)) return { ...empty, refused: 'post_only_would_take' };
      return { ...empty, restQuantity: taker.quantity! };
    }

    const fills: Fill[] = [];
    let filledQuantity = ZERO;
    let filledQuote = ZERO;
    let wanted = taker.quantity;
    let budget = taker.quoteBudget;
    walk: for (const level of opposite.levels) {
      if (!crosses(level.price)) break;
      for (const maker of level.orders) {
        let quantity: Decimal;
        if (wanted !== undefined) {
          if (wanted.lte(0)) break walk;
          quantity = Decimal.min(wanted, maker.remaining);
        } else {
          // A market buy spends its budget: as much base as the rest of the budget buys at this price.
          const affordable = budget!.div(level.price).toDecimalPlaces(this.quantityAccuracy, Decimal.ROUND_DOWN);
          if (affordable.lte(0)) break walk;
          quantity = Decimal.min(affordable, maker.remaining);
        }
        const quoteQuantity = level.price.times(quantity).toDecimalPlaces(this.quoteScale, Decimal.ROUND_DOWN);
        fills.push({ maker, price: level.price, quantity, quoteQuantity });
        filledQuantity = filledQuantity.plus(quantity);
        filledQuote = filledQuote.plus(quoteQuantity);
        if (wanted !== undefined) wanted = wanted.minus(quantity);
        if (budget !== undefined) budget = budget.minus(quoteQuantity);
      }
    }

    const unfilled = taker.quantity ? taker.quantity.minus(filledQuantity) : ZERO;
    if (taker.timeInForce === 'fok' && unfilled.gt(0)) return { ...empty, refused: 'fok_unfillable' };
    const rests = taker.timeInForce === 'gtc' && taker.price !== undefined;
    return { fills, filledQuantity, filledQuote, restQuantity: rests ? unfilled : ZERO };
  }

  /** Applies a plan: makers are reduced (and removed when filled), and the rest of the taker rests. */
  apply(plan: MatchPlan, resting?: Omit<RestingOrder, 'remaining'>): void {
    for (const fill of plan.fills) {
      fill.maker.remaining = fill.maker.remaining.minus(fill.quantity);
      if (fill.maker.remaining.lte(0)) this.remove(fill.maker.id);
    }
    if (resting && plan.restQuantity.gt(0)) this.add({ ...resting, remaining: plan.restQuantity });
  }

  /** Aggregated levels, best first. */
  depth(limit: number): { bids: Array<[string, string]>; asks: Array<[string, string]> } {
    const aggregate = (side: BookSide) =>
      side.levels.slice(0, limit).map((level): [string, string] => [level.price.toFixed(), level.orders.reduce((sum, o) => sum.plus(o.remaining), ZERO).toFixed()]);
    return { bids: aggregate(this.bids), asks: aggregate(this.asks) };
  }

  bestBid(): RestingOrder | undefined {
    return this.bids.levels[0]?.orders[0];
  }

  bestAsk(): RestingOrder | undefined {
    return this.asks.levels[0]?.orders[0];
  }
}
