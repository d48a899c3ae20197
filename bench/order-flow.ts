// The orders bench:orders places: limit orders on btc_usdt of which half rest on the book and half
// cross it, from two traders, with a book that stays small however the requests are reordered.
//
// Every buy is priced at or above the mid and every sell at or below it, so a buy always crosses
// when any sell rests and a sell whenever any buy rests: the book only ever holds one side. All
// orders have the same amount, so a crossing order fills exactly one resting order, whole. The flow
// runs in cycles of 4 × DEPTH orders: DEPTH sells rest (at up to DEPTH price levels), DEPTH buys
// take them, DEPTH buys rest, DEPTH sells take them. One trader places the resting orders of a
// cycle and the other the crossing ones, swapping every cycle, so both make and take, each paying
// the maker or taker fee. In order, exactly half the orders rest and half cross; when concurrent
// requests reach the server in another order, some swap roles, but the resting quantity is always
// |bought − sold| of what was placed, so the count of resting orders at the end is known exactly.
export const ORDER_SYMBOL = 'btc_usdt';
export const ORDER_AMOUNT = '0.001';
/** Orders a side rests before the other side takes them: the book's depth swings from 0 to this. */
export const DEPTH = 64;
const MID_CENTS = 3_000_000;
const STEP_CENTS = 50;
/** Coprime with DEPTH: resting orders land in the middle of the book, not only at its end. */
const SPREAD = 37;

export interface FlowOrder {
  /** Which of the two traders places it (0 or 1). */
  trader: 0 | 1;
  side: 'buy' | 'sell';
  /** The order's parameters for supplement/create_order. */
  params: Record<string, string>;
}

function priceText(cents: number): string {
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

/** The i-th order of the flow (i from 0). */
export function flowOrder(i: number): FlowOrder {
  const cycle = Math.floor(i / (4 * DEPTH));
  const phase = Math.floor((i % (4 * DEPTH)) / DEPTH);
  const level = ((i % DEPTH) * SPREAD) % DEPTH;
  const side = phase === 0 || phase === 3 ? 'sell' : 'buy';
  const resting = phase === 0 || phase === 2;
  const trader = ((cycle + (resting ? 0 : 1)) % 2) as 0 | 1;
  const cents = side === 'buy' ? MID_CENTS + level * STEP_CENTS : MID_CENTS - level * STEP_CENTS;
  return { trader, side, params: { symbol: ORDER_SYMBOL, type: side, price: priceText(cents), amount: ORDER_AMOUNT } };
}

/** The flow from its start; the generator keeps one for the whole run, as the server keeps its book. */
export class OrderFlow {
  #placed = 0;

  next(): FlowOrder {
    return flowOrder(this.#placed++);
  }
}

/** What the first `placed` orders must leave behind, whatever order they reached the server in. */
export function expectedOutcome(placed: number): { buys: number; sells: number; resting: number; trades: number } {
  let buys = 0;
  for (let i = 0; i < placed; i++) if (flowOrder(i).side === 'buy') buys++;
  const sells = placed - buys;
  const resting = Math.abs(buys - sells);
  return { buys, sells, resting, trades: (placed - resting) / 2 };
}
