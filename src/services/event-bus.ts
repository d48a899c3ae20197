// The exchange's bus: how order intake on any server wakes a market's engine, and how an engine tells
// every server what it did (orders taken, trades, book and balance changes) — which answers waiting
// requests and, later, feeds the WebSocket pushes. A lone server's bus is in-process; a fleet's is
// PostgreSQL's LISTEN/NOTIFY (storage/postgres-bus.ts). The bus only carries news: everything it says
// is already committed, and whoever misses a message finds the same in the database (engines also
// poll), so a message lost with a connection costs latency, never correctness.
import { EventEmitter } from 'node:events';

export const BUS_CHANNELS = {
  /** Payload: a market symbol that has new orders or cancellations waiting. */
  intake: 'keygate_intake',
  /**
   * Payload: a market symbol that has cancellations waiting, sent with its intake message: an engine
   * reads the market's cancel requests only when told (or when it polls).
   */
  cancels: 'keygate_cancels',
  /** Payload: an EngineReport, as JSON. */
  engine: 'keygate_engine',
  /** Payload: BalanceTouch[] as JSON — balances changed outside an engine (order intake, deposits, withdrawals). */
  balances: 'keygate_balances',
  /** Payload: API keys as a JSON array — keys changed (status, authority) or their subscribe keys destroyed. */
  keys: 'keygate_keys',
} as const;
export type BusChannel = (typeof BUS_CHANNELS)[keyof typeof BUS_CHANNELS];

export interface EventBus {
  publish(channel: BusChannel, payload: string): Promise<void>;
  subscribe(channel: BusChannel, handler: (payload: string) => void): void;
  close(): Promise<void>;
}

/** What an engine committed in one batch for one market. */
export interface EngineReport {
  symbol: string;
  /** Orders placed or cancelled in the batch, with why one was refused as a whole (cancellation: the entry answers a cancel request). */
  done: Array<{ orderId: string; refused?: 'post_only_would_take'; cancellation?: true }>;
  /** Orders whose state changed (the batch's own and the resting orders it filled). */
  orders: Array<{ orderId: string; userId: number; status: number }>;
  /** The batch's trades in order, with their ids (which rise, market by market, in the order of commits); quoteQuantity as settled (price × quantity rounded down to the quote's scale): domain/candles.ts applyTrade takes them as they are. */
  trades: Array<{ id?: number; price: string; quantity: string; quoteQuantity: string; takerSide: string; at: number }>;
  /** Accounts and assets whose balances changed. */
  balances: BalanceTouch[];
  /** The version of the market's book (market_depth) this batch committed. */
  depthVersion?: number;
  at: number;
}

/** An account's balance of one asset changed (what changed is in the database). */
export interface BalanceTouch {
  userId: number;
  asset: string;
}

/** Tells every server that these balances changed. News only: a lost message delays a push, nothing else. */
export function publishBalanceTouches(bus: EventBus, touches: readonly BalanceTouch[]): void {
  if (touches.length === 0) return;
  void bus.publish(BUS_CHANNELS.balances, JSON.stringify(touches.map((t) => ({ userId: t.userId, asset: t.asset })))).catch(() => undefined);
}

export class LocalBus implements EventBus {
  readonly #emitter = new EventEmitter().setMaxListeners(0);

  async publish(channel: BusChannel, payload: string): Promise<void> {
    // Delivered on a later turn, as a remote bus would, so that a publisher never re-enters itself.
    setImmediate(() => this.#emitter.emit(channel, payload));
  }

  subscribe(channel: BusChannel, handler: (payload: string) => void): void {
    this.#emitter.on(channel, handler);
  }

  async close(): Promise<void> {
    this.#emitter.removeAllListeners();
  }
}
