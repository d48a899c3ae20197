// The WebSocket API's streams, independent of the socket library: who is subscribed to what, and what
// to push to them. Every server runs its own hub. Pushes follow the exchange's bus — the engine's
// reports (from whichever server runs a market), balance changes made outside an engine, key changes —
// so a socket on any server sees every market and its account's private events. A hub reads what a
// push needs from the database once per feed, however many sockets share it, and coalesces: at most
// one push per feed per interval (the first change goes out at once).
//
// A feed's runs never overlap, and a new subscriber joins at the end of a run, after its snapshot:
// so it misses no change and sees none twice (incremental depth chains on from its snapshot).
import type { DayStats } from './candles.js';
import type { Logger } from 'pino';
import type { WebSocketConfig } from '../config.js';
import { applyTrade, flatCandle, slotStart, type Candle, type KbarSlot } from '../domain/kbar.js';
import { Decimal } from '../domain/ledger.js';
import { standingMessage } from '../domain/subscribe-keys.js';
import type { OrderRow, StoredDepth, TradeRow } from '../storage/exchange.js';
import type { Database } from '../storage/database.js';
import { CandleRangeError, latestSlotsFrom, type CandleSource } from './candle-source.js';
import { Coalescer } from './coalescer.js';
import { BUS_CHANNELS, type BalanceTouch, type EngineReport, type EventBus } from './event-bus.js';
import type { ExchangeService } from './exchange.js';
import type { LedgerService } from './ledger.js';
import { DEPTH_LEVELS } from './market-engine.js';
import type { SubscribeKeyService } from './subscribe-keys.js';

/** Recent trades sent when a trade stream opens. */
export const TRADE_SNAPSHOT_SIZE = 50;
/** Open orders sent when an orderUpdate stream opens (the newest). */
export const ORDER_SNAPSHOT_SIZE = 200;
/** How often private streams' subscribe keys are checked again (a key change announced on the bus is checked at once). */
export const KEY_CHECK_INTERVAL_MS = 500;
/** A feed whose run failed (the database) tries again after this long. */
const RETRY_MS = 1000;

type Level = [string, string];

export type SubscriptionSpec =
  | { channel: 'depth'; pair: string; size: number }
  | { channel: 'trade' | 'tick' | 'incrdepth'; pair: string }
  | { channel: 'kbar'; pair: string; slot: KbarSlot }
  /** pair: a market, or `all`. */
  | { channel: 'orderUpdate'; pair: string; subscribeKey: string }
  | { channel: 'assetUpdate'; subscribeKey: string };

export type Channel = SubscriptionSpec['channel'];

export interface PublicTrade {
  id: number | undefined;
  price: string;
  quantity: string;
  quoteQuantity: string;
  takerSide: string;
  at: number;
}

/** A tick: the market's 24-hour statistics (the candle service's) and the side of its last trade. */
export interface TickStats extends DayStats {
  /** The taker side of the last trade. */
  dir: string;
}

export type StreamEvent =
  | { channel: 'depth'; pair: string; size: number; asks: Level[]; bids: Level[]; version: number }
  | { channel: 'incrdepth'; pair: string; version: number; prevVersion: number; asks: Level[]; bids: Level[] }
  | { channel: 'trade'; pair: string; trade: PublicTrade }
  | { channel: 'tick'; pair: string; stats: TickStats }
  | { channel: 'kbar'; pair: string; slot: KbarSlot; candle: Candle }
  | { channel: 'orderUpdate'; pair: string; order: OrderRow; role: 'maker' | 'taker' }
  | { channel: 'assetUpdate'; asset: string; available: string; frozen: string; change: string; changedAt: number };

export type RequestSpec =
  | { request: 'depth'; pair: string; size: number }
  | { request: 'trade'; pair: string; size: number }
  | { request: 'tick'; pair: string }
  | { request: 'kbar'; pair: string; slot: KbarSlot; size: number; start?: number; end?: number };

export type RequestReply =
  | { request: 'depth'; pair: string; asks: Level[]; bids: Level[] }
  | { request: 'trade'; pair: string; trades: PublicTrade[] }
  | { request: 'tick'; pair: string; stats: TickStats }
  | { request: 'kbar'; pair: string; slot: KbarSlot; candles: Candle[] };

export interface StreamSubscriber {
  /** The same event object goes to every subscriber of a topic (format it once). */
  deliver(event: StreamEvent): void;
  /** A private subscription ended because its subscribe key died; `message` says why. */
  ended(topic: string, spec: SubscriptionSpec, message: string): void;
}

/** A subscription refused; the message is for the client. */
export class StreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StreamError';
  }
}

export interface StreamHubDependencies {
  database: Database;
  exchange: ExchangeService;
  /** A market's 24-hour statistics (tick). */
  dayStats(pair: string): Promise<DayStats>;
  ledger: LedgerService;
  subscribeKeys: SubscribeKeyService;
  candles: CandleSource;
  bus: EventBus;
  config: WebSocketConfig;
  now: () => number;
  logger: Logger;
  /** Counts the subscriptions held (keygate_ws_subscriptions). */
  subscriptionsGauge?: { inc(): void; dec(): void };
}

interface Membership {
  feed: Feed;
  spec: SubscriptionSpec;
}

function pairOf(spec: SubscriptionSpec): string | undefined {
  return spec.channel === 'assetUpdate' ? undefined : spec.pair;
}

type Refuse = (topic: string, subscribers: ReadonlySet<StreamSubscriber>, message: string) => void;

/** Subscribers of one source of data (a market's book, its trades, an account's orders…), by topic. */
abstract class Feed {
  /** Topic → its subscribers. */
  readonly topics = new Map<string, Set<StreamSubscriber>>();
  /** Waiting for their snapshot, taken at the next run. */
  joining = new Map<string, Set<StreamSubscriber>>();
  readonly #coalescer: Coalescer;
  #closed = false;

  constructor(
    readonly key: string,
    intervalMs: number,
    protected readonly hub: StreamHubDependencies,
    /** Ends these subscriptions with a message for the client (what they ask for cannot be served). */
    private readonly refuse: (topic: string, subscribers: ReadonlySet<StreamSubscriber>, message: string) => void,
  ) {
    this.#coalescer = new Coalescer(intervalMs, () => this.#run(), () => undefined);
  }

  /** Push what changed; send snapshots to the joiners (each topic's own). */
  protected abstract refresh(joining: ReadonlyMap<string, ReadonlySet<StreamSubscriber>>): Promise<void>;

  join(subscriber: StreamSubscriber, topic: string): void {
    // Subscribed again: a fresh snapshot, and updates from it.
    this.topics.get(topic)?.delete(subscriber);
    let waiting = this.joining.get(topic);
    if (!waiting) this.joining.set(topic, (waiting = new Set()));
    waiting.add(subscriber);
    this.#coalescer.soon();
  }

  leave(subscriber: StreamSubscriber, topic: string): void {
    const members = this.topics.get(topic);
    members?.delete(subscriber);
    if (members?.size === 0) this.topics.delete(topic);
    this.joining.get(topic)?.delete(subscriber);
  }

  get empty(): boolean {
    return this.topics.size === 0 && [...this.joining.values()].every((s) => s.size === 0);
  }

  changed(): void {
    this.#coalescer.trigger();
  }

  close(): void {
    this.#closed = true;
    this.#coalescer.close();
  }

  protected send(topic: string, event: StreamEvent, to: ReadonlySet<StreamSubscriber> | undefined = this.topics.get(topic)): void {
    if (!to) return;
    for (const subscriber of to) subscriber.deliver(event);
  }

  async #run(): Promise<void> {
    if (this.#closed) return;
    const joining = this.joining;
    this.joining = new Map();
    try {
      await this.refresh(joining);
    } catch (error) {
      if (error instanceof CandleRangeError) {
        for (const [topic, subscribers] of joining) this.refuse(topic, subscribers, error.message);
        return;
      }
      this.hub.logger.warn({ err: error, feed: this.key }, 'a stream could not be refreshed; trying again');
      // The joiners wait for a snapshot that worked.
      for (const [topic, subscribers] of joining) for (const s of subscribers) this.join(s, topic);
      setTimeout(() => this.changed(), RETRY_MS).unref();
      return;
    }
    for (const [topic, subscribers] of joining) {
      if (subscribers.size === 0) continue;
      let members = this.topics.get(topic);
      if (!members) this.topics.set(topic, (members = new Set()));
      for (const s of subscribers) members.add(s);
    }
  }
}

/** One level list's changes from `before` to `after`: new or changed quantities, removed levels at 0. */
function levelChanges(before: readonly Level[], after: readonly Level[], ascending: boolean): Level[] {
  const old = new Map(before.map(([p, q]) => [p, q]));
  const changes: Level[] = [];
  const seen = new Set<string>();
  for (const [price, quantity] of after) {
    seen.add(price);
    if (old.get(price) !== quantity) changes.push([price, quantity]);
  }
  for (const [price] of before) if (!seen.has(price)) changes.push([price, '0']);
  return changes.sort((a, b) => (ascending ? 1 : -1) * new Decimal(a[0]).comparedTo(b[0]));
}

/** A market's book: depth topics (one per size) and incrdepth. */
class BookFeed extends Feed {
  #last: StoredDepth | undefined;

  constructor(key: string, readonly pair: string, hub: StreamHubDependencies, refuse: Refuse) {
    super(key, hub.config.pushIntervalMs, hub, refuse);
  }

  protected async refresh(joining: ReadonlyMap<string, ReadonlySet<StreamSubscriber>>): Promise<void> {
    const depth = await this.hub.exchange.depth(this.pair, DEPTH_LEVELS);
    const last = this.#last;
    this.#last = depth;
    const changed = last !== undefined && depth.version !== last.version;
    const depthEvent = (size: number): StreamEvent => ({ channel: 'depth', pair: this.pair, size, asks: depth.asks.slice(0, size), bids: depth.bids.slice(0, size), version: depth.version });
    if (changed) {
      for (const topic of this.topics.keys()) {
        if (topic.startsWith('incrdepth:')) {
          this.send(topic, { channel: 'incrdepth', pair: this.pair, prevVersion: last.version, version: depth.version, asks: levelChanges(last.asks, depth.asks, true), bids: levelChanges(last.bids, depth.bids, false) });
        } else {
          this.send(topic, depthEvent(Number(topic.split(':')[2])));
        }
      }
    }
    for (const [topic, subscribers] of joining) {
      if (topic.startsWith('incrdepth:')) {
        // The whole book, as changes from an empty book at version 0.
        this.send(topic, { channel: 'incrdepth', pair: this.pair, prevVersion: 0, version: depth.version, asks: depth.asks, bids: depth.bids }, subscribers);
      } else {
        this.send(topic, depthEvent(Number(topic.split(':')[2])), subscribers);
      }
    }
  }
}

function publicTrade(row: TradeRow): PublicTrade {
  return { id: row.id, price: row.price, quantity: row.quantity, quoteQuantity: row.quote_quantity, takerSide: row.taker_side, at: row.created_at };
}

/** A market's trades, from the engine's reports; a new subscriber first gets the latest from the database. */
class TradeFeed extends Feed {
  #queue: PublicTrade[] = [];
  /** Subscribers whose snapshot reached this trade id: later trades only. */
  readonly #floors = new Map<StreamSubscriber, number>();

  constructor(key: string, readonly pair: string, hub: StreamHubDependencies, refuse: Refuse) {
    super(key, hub.config.pushIntervalMs, hub, refuse);
  }

  add(trades: readonly PublicTrade[]): void {
    this.#queue.push(...trades);
    this.changed();
  }

  protected async refresh(joining: ReadonlyMap<string, ReadonlySet<StreamSubscriber>>): Promise<void> {
    const queued = this.#queue;
    this.#queue = [];
    const topic = `trade:${this.pair}`;
    for (const trade of queued) {
      // One event for all: its frame is written once.
      const event: StreamEvent = { channel: 'trade', pair: this.pair, trade };
      for (const subscriber of this.topics.get(topic) ?? []) {
        const floor = this.#floors.get(subscriber);
        if (floor === undefined || trade.id === undefined || trade.id > floor) subscriber.deliver(event);
      }
    }
    const newest = queued[queued.length - 1]?.id;
    if (newest !== undefined) for (const [s, floor] of this.#floors) if (floor <= newest) this.#floors.delete(s);
    const subscribers = joining.get(topic);
    if (!subscribers || subscribers.size === 0) return;
    const recent = (await this.hub.exchange.publicTrades(this.pair, TRADE_SNAPSHOT_SIZE)).reverse().map(publicTrade);
    const floor = recent[recent.length - 1]?.id ?? 0;
    for (const trade of recent) this.send(topic, { channel: 'trade', pair: this.pair, trade }, subscribers);
    for (const s of subscribers) this.#floors.set(s, floor);
  }
}

async function tickStats(hub: StreamHubDependencies, pair: string): Promise<TickStats> {
  const [stats, last] = await Promise.all([hub.dayStats(pair), hub.exchange.publicTrades(pair, 1)]);
  return { ...stats, dir: last[0]?.taker_side ?? 'buy' };
}

/** A market's 24-hour statistics, recomputed (at the tick interval) after trades. */
class TickFeed extends Feed {
  #last: string | undefined;

  constructor(key: string, readonly pair: string, hub: StreamHubDependencies, refuse: Refuse) {
    super(key, hub.config.tickIntervalMs, hub, refuse);
  }

  protected async refresh(joining: ReadonlyMap<string, ReadonlySet<StreamSubscriber>>): Promise<void> {
    const stats = await tickStats(this.hub, this.pair);
    const topic = `tick:${this.pair}`;
    const text = JSON.stringify(stats);
    const event: StreamEvent = { channel: 'tick', pair: this.pair, stats };
    if (this.#last !== undefined && text !== this.#last) this.send(topic, event);
    this.#last = text;
    const subscribers = joining.get(topic);
    if (subscribers) this.send(topic, event, subscribers);
  }
}

/** The current candle of a market at one slot: history from the candle source, then the engine's trades on top. */
class KbarFeed extends Feed {
  #candle: Candle | undefined;
  /** -1 until loaded. */
  #through = -1;
  #queue: PublicTrade[] = [];

  constructor(key: string, readonly pair: string, readonly slot: KbarSlot, hub: StreamHubDependencies, refuse: Refuse) {
    super(key, hub.config.pushIntervalMs, hub, refuse);
  }

  add(trades: readonly PublicTrade[]): void {
    this.#queue.push(...trades);
    this.changed();
  }

  protected async refresh(joining: ReadonlyMap<string, ReadonlySet<StreamSubscriber>>): Promise<void> {
    const topic = `kbar:${this.pair}:${this.slot}`;
    if (this.#through < 0) {
      const history = await this.hub.candles.klines(this.pair, this.slot, slotStart(this.slot, this.hub.now()), 1);
      this.#candle = history.candles[0];
      this.#through = history.throughTradeId;
    }
    const queued = this.#queue;
    this.#queue = [];
    let changed = false;
    for (const trade of queued) {
      if (trade.id !== undefined && trade.id <= this.#through) continue;
      this.#candle = applyTrade(this.#candle, this.slot, trade);
      if (trade.id !== undefined) this.#through = trade.id;
      changed = true;
    }
    if (changed && this.#candle) this.send(topic, { channel: 'kbar', pair: this.pair, slot: this.slot, candle: this.#candle });
    const subscribers = joining.get(topic);
    if (!subscribers || subscribers.size === 0) return;
    const current = slotStart(this.slot, this.hub.now());
    let snapshot = this.#candle;
    if (!snapshot || snapshot.start !== current) {
      // No trade in this slot yet: flat at the last price (nothing for a market that never traded).
      const price = snapshot?.close ?? (await this.hub.exchange.publicTrades(this.pair, 1))[0]?.price;
      snapshot = price === undefined ? undefined : flatCandle(current, price);
    }
    if (snapshot) this.send(topic, { channel: 'kbar', pair: this.pair, slot: this.slot, candle: snapshot }, subscribers);
  }
}

/** An account's orders: orderUpdate topics, one per pair (or `all`). */
class OrderFeed extends Feed {
  #queue = new Map<string, 'maker' | 'taker'>();

  constructor(key: string, readonly userId: number, hub: StreamHubDependencies, refuse: Refuse) {
    super(key, hub.config.pushIntervalMs, hub, refuse);
  }

  add(orderId: string, role: 'maker' | 'taker'): void {
    this.#queue.set(orderId, role);
    this.changed();
  }

  #deliver(order: OrderRow, role: 'maker' | 'taker', to: (topic: string) => ReadonlySet<StreamSubscriber> | undefined): void {
    const event: StreamEvent = { channel: 'orderUpdate', pair: order.symbol, order, role };
    for (const topic of [`orderUpdate:${this.userId}:all`, `orderUpdate:${this.userId}:${order.symbol}`]) this.send(topic, event, to(topic));
  }

  protected async refresh(joining: ReadonlyMap<string, ReadonlySet<StreamSubscriber>>): Promise<void> {
    const queued = this.#queue;
    this.#queue = new Map();
    if (queued.size > 0) {
      for (const order of await this.hub.exchange.ordersOf(this.userId, [...queued.keys()])) this.#deliver(order, queued.get(order.order_id)!, (t) => this.topics.get(t));
    }
    for (const [topic, subscribers] of joining) {
      if (subscribers.size === 0) continue;
      const pair = topic.split(':')[2]!;
      const { rows } = await this.hub.exchange.orders({ userId: this.userId, ...(pair === 'all' ? {} : { symbol: pair }), state: 'open', offset: 0, limit: ORDER_SNAPSHOT_SIZE });
      for (const order of rows.reverse()) this.send(topic, { channel: 'orderUpdate', pair: order.symbol, order, role: 'maker' }, subscribers);
    }
  }
}

/** LBank's name for the kind of a balance change, from the journal's reason. */
export function changeType(reason: string | undefined): string {
  if (reason === undefined) return 'UNKNOWN';
  return reason === 'order_freeze' ? 'ORDER_CREATE' : reason.toUpperCase();
}

/** An account's balances: one assetUpdate frame per asset that changed. */
class AssetFeed extends Feed {
  #dirty: Set<string> | 'all' = new Set();
  readonly #last = new Map<string, string>();

  constructor(key: string, readonly userId: number, hub: StreamHubDependencies, refuse: Refuse) {
    super(key, hub.config.pushIntervalMs, hub, refuse);
  }

  /** An asset's balance changed. */
  touch(asset: string): void {
    if (this.#dirty !== 'all') this.#dirty.add(asset);
    this.changed();
  }

  /** Any balance may have changed (another process wrote to the database). */
  touchAll(): void {
    this.#dirty = 'all';
    this.changed();
  }

  async #event(balance: { asset: string; available: string; frozen: string }): Promise<StreamEvent> {
    const last = await this.hub.ledger.lastChange(this.userId, balance.asset);
    return { channel: 'assetUpdate', asset: balance.asset, available: balance.available, frozen: balance.frozen, change: changeType(last?.reason), changedAt: last?.at ?? this.hub.now() };
  }

  protected async refresh(joining: ReadonlyMap<string, ReadonlySet<StreamSubscriber>>): Promise<void> {
    const topic = `assetUpdate:${this.userId}`;
    const dirty = this.#dirty;
    this.#dirty = new Set();
    const held = await this.hub.ledger.held(this.userId);
    for (const balance of held) {
      const state = `${balance.available}/${balance.frozen}`;
      const wanted = dirty === 'all' || dirty.has(balance.asset);
      if (!wanted || this.#last.get(balance.asset) === state) continue;
      this.#last.set(balance.asset, state);
      this.send(topic, await this.#event(balance));
    }
    const subscribers = joining.get(topic);
    if (!subscribers || subscribers.size === 0) return;
    for (const balance of held) {
      this.#last.set(balance.asset, `${balance.available}/${balance.frozen}`);
      this.send(topic, await this.#event(balance), subscribers);
    }
  }
}

export class StreamHub {
  readonly #feeds = new Map<string, Feed>();
  readonly #kbarFeeds = new Map<string, Set<KbarFeed>>();
  readonly #members = new Map<StreamSubscriber, Map<string, Membership>>();
  /** Private subscriptions by subscribe key: what to end when the key dies. */
  readonly #private = new Map<string, Map<StreamSubscriber, Set<string>>>();
  readonly #keyCheck: Coalescer;
  #keyTimer: NodeJS.Timeout | undefined;
  #stamp: number | undefined;
  #started = false;

  constructor(private readonly deps: StreamHubDependencies) {
    this.#keyCheck = new Coalescer(0, () => this.#checkKeys(), (error) => deps.logger.warn({ err: error }, 'subscribe keys could not be checked'));
  }

  /** Listens to the bus; done by the server that serves the WebSocket API. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const { bus } = this.deps;
    // A message that cannot be read is dropped: the bus only carries news, and nothing here may throw into it.
    const guarded = (handle: (payload: string) => void) => (payload: string) => {
      try {
        handle(payload);
      } catch (error) {
        this.deps.logger.warn({ err: error }, 'a bus message for the streams could not be read');
      }
    };
    bus.subscribe(BUS_CHANNELS.engine, guarded((payload) => this.#onEngine(JSON.parse(payload) as EngineReport)));
    bus.subscribe(
      BUS_CHANNELS.balances,
      guarded((payload) => {
        for (const touch of JSON.parse(payload) as BalanceTouch[]) this.#assets(touch.userId)?.touch(touch.asset);
      }),
    );
    bus.subscribe(
      BUS_CHANNELS.keys,
      guarded(() => {
        if (this.#private.size > 0) this.#keyCheck.soon();
      }),
    );
    this.#keyTimer = setInterval(() => this.#tick(), KEY_CHECK_INTERVAL_MS);
    this.#keyTimer.unref();
  }

  /** How many subscriptions this server holds (all sockets). */
  get subscriptions(): number {
    let n = 0;
    for (const m of this.#members.values()) n += m.size;
    return n;
  }

  /**
   * Subscribes and sends the snapshot; returns the topic, the subscription's identity (subscribing to
   * it again sends a fresh snapshot). Throws StreamError for an unknown pair or a dead subscribe key.
   */
  async subscribe(subscriber: StreamSubscriber, spec: SubscriptionSpec): Promise<string> {
    const pair = pairOf(spec);
    if (pair !== undefined && !(spec.channel === 'orderUpdate' && pair === 'all')) this.#market(pair);
    let topic: string;
    let feedKey: string;
    let make: () => Feed;
    const deps = this.deps;
    const refuse: Refuse = (topic, subscribers, message) => {
      for (const subscriber of [...subscribers]) {
        const refused = this.#members.get(subscriber)?.get(topic)?.spec;
        this.unsubscribe(subscriber, topic);
        if (refused) subscriber.ended(topic, refused, message);
      }
    };
    switch (spec.channel) {
      case 'depth':
      case 'incrdepth':
        topic = spec.channel === 'depth' ? `depth:${spec.pair}:${spec.size}` : `incrdepth:${spec.pair}`;
        feedKey = `book:${spec.pair}`;
        make = () => new BookFeed(feedKey, spec.pair, deps, refuse);
        break;
      case 'trade':
        topic = feedKey = `trade:${spec.pair}`;
        make = () => new TradeFeed(feedKey, spec.pair, deps, refuse);
        break;
      case 'tick':
        topic = feedKey = `tick:${spec.pair}`;
        make = () => new TickFeed(feedKey, spec.pair, deps, refuse);
        break;
      case 'kbar':
        topic = feedKey = `kbar:${spec.pair}:${spec.slot}`;
        make = () => new KbarFeed(feedKey, spec.pair, spec.slot, deps, refuse);
        break;
      case 'orderUpdate':
      case 'assetUpdate': {
        const standing = (await deps.subscribeKeys.standings([spec.subscribeKey])).get(spec.subscribeKey)!;
        if (!standing.live) throw new StreamError(standingMessage(standing));
        const userId = standing.userId;
        if (spec.channel === 'orderUpdate') {
          topic = `orderUpdate:${userId}:${spec.pair}`;
          feedKey = `orders:${userId}`;
          make = () => new OrderFeed(feedKey, userId, deps, refuse);
        } else {
          topic = `assetUpdate:${userId}`;
          feedKey = `assets:${userId}`;
          make = () => new AssetFeed(feedKey, userId, deps, refuse);
        }
        break;
      }
    }
    let feed = this.#feeds.get(feedKey);
    if (!feed) {
      feed = make();
      this.#feeds.set(feedKey, feed);
      if (feed instanceof KbarFeed) {
        const set = this.#kbarFeeds.get(feed.pair) ?? new Set();
        this.#kbarFeeds.set(feed.pair, set.add(feed));
      }
    }
    const memberships = this.#members.get(subscriber) ?? new Map<string, Membership>();
    this.#members.set(subscriber, memberships);
    const previous = memberships.get(topic);
    if (previous && 'subscribeKey' in previous.spec) this.#forgetPrivate(subscriber, topic, previous.spec.subscribeKey);
    if (!previous) this.deps.subscriptionsGauge?.inc();
    memberships.set(topic, { feed, spec });
    if ('subscribeKey' in spec) {
      const bySubscriber = this.#private.get(spec.subscribeKey) ?? new Map<StreamSubscriber, Set<string>>();
      this.#private.set(spec.subscribeKey, bySubscriber);
      const topics = bySubscriber.get(subscriber) ?? new Set<string>();
      bySubscriber.set(subscriber, topics.add(topic));
    }
    feed.join(subscriber, topic);
    return topic;
  }

  /** The subscriber's topics and what each was subscribed with. */
  topicsOf(subscriber: StreamSubscriber): Map<string, SubscriptionSpec> {
    return new Map([...(this.#members.get(subscriber) ?? new Map<string, Membership>())].map(([topic, m]) => [topic, m.spec]));
  }

  unsubscribe(subscriber: StreamSubscriber, topic: string): void {
    const memberships = this.#members.get(subscriber);
    const membership = memberships?.get(topic);
    if (!memberships || !membership) return;
    memberships.delete(topic);
    this.deps.subscriptionsGauge?.dec();
    if (memberships.size === 0) this.#members.delete(subscriber);
    if ('subscribeKey' in membership.spec) this.#forgetPrivate(subscriber, topic, membership.spec.subscribeKey);
    const feed = membership.feed;
    feed.leave(subscriber, topic);
    if (feed.empty) {
      feed.close();
      this.#feeds.delete(feed.key);
      if (feed instanceof KbarFeed) this.#kbarFeeds.get(feed.pair)?.delete(feed);
    }
  }

  /** The subscriber is gone (its socket closed). */
  drop(subscriber: StreamSubscriber): void {
    for (const topic of [...(this.#members.get(subscriber)?.keys() ?? [])]) this.unsubscribe(subscriber, topic);
  }

  async request(spec: RequestSpec): Promise<RequestReply> {
    const { exchange } = this.deps;
    const pair = this.#market(spec.pair);
    switch (spec.request) {
      case 'depth': {
        const depth = await exchange.depth(pair, spec.size);
        return { request: 'depth', pair, asks: depth.asks, bids: depth.bids };
      }
      case 'trade':
        return { request: 'trade', pair, trades: (await exchange.publicTrades(pair, spec.size)).reverse().map(publicTrade) };
      case 'tick':
        return { request: 'tick', pair, stats: await tickStats(this.deps, pair) };
      case 'kbar': {
        const from = spec.start ?? latestSlotsFrom(spec.slot, spec.end ?? this.deps.now(), spec.size);
        const history = await this.deps.candles.klines(pair, spec.slot, from, spec.size, spec.end === undefined ? undefined : spec.end + 1);
        return { request: 'kbar', pair, slot: spec.slot, candles: history.candles };
      }
    }
  }

  close(): void {
    clearInterval(this.#keyTimer);
    this.#keyCheck.close();
    for (const feed of this.#feeds.values()) feed.close();
    this.#feeds.clear();
    this.#kbarFeeds.clear();
    this.#members.clear();
    this.#private.clear();
  }

  #market(pair: string): string {
    try {
      return this.deps.exchange.market(pair).symbol;
    } catch {
      throw new StreamError(`unknown pair ${pair.slice(0, 40)}`);
    }
  }

  #assets(userId: number): AssetFeed | undefined {
    return this.#feeds.get(`assets:${userId}`) as AssetFeed | undefined;
  }

  #onEngine(report: EngineReport): void {
    const pair = report.symbol;
    this.#feeds.get(`book:${pair}`)?.changed();
    if (report.trades.length > 0) {
      const trades: PublicTrade[] = report.trades.map((t) => ({ id: t.id, price: t.price, quantity: t.quantity, quoteQuantity: t.quoteQuantity ?? new Decimal(t.price).times(t.quantity).toFixed(), takerSide: t.takerSide, at: t.at }));
      (this.#feeds.get(`trade:${pair}`) as TradeFeed | undefined)?.add(trades);
      this.#feeds.get(`tick:${pair}`)?.changed();
      for (const feed of this.#kbarFeeds.get(pair) ?? []) feed.add(trades);
    }
    if (report.orders.length > 0) {
      const taken = new Set(report.done.filter((d) => !d.cancellation).map((d) => d.orderId));
      for (const order of report.orders) {
        (this.#feeds.get(`orders:${order.userId}`) as OrderFeed | undefined)?.add(order.orderId, taken.has(order.orderId) ? 'taker' : 'maker');
      }
    }
    for (const touch of report.balances) this.#assets(touch.userId)?.touch(touch.asset);
  }

  #tick(): void {
    if (this.#private.size > 0) this.#keyCheck.soon();
    // Another process (the CLI on the same SQLite file) may have moved balances without a word on the bus.
    const stamp = this.deps.database.externalChangeStamp();
    if (stamp !== undefined && stamp !== this.#stamp) {
      if (this.#stamp !== undefined) for (const feed of this.#feeds.values()) if (feed instanceof AssetFeed) feed.touchAll();
      this.#stamp = stamp;
    }
  }

  async #checkKeys(): Promise<void> {
    if (this.#private.size === 0) return;
    const standings = await this.deps.subscribeKeys.standings([...this.#private.keys()]);
    for (const [subscribeKey, standing] of standings) {
      if (standing.live) continue;
      const message = standingMessage(standing);
      for (const [subscriber, topics] of [...(this.#private.get(subscribeKey) ?? [])]) {
        for (const topic of [...topics]) {
          const spec = this.#members.get(subscriber)?.get(topic)?.spec;
          this.unsubscribe(subscriber, topic);
          if (spec) subscriber.ended(topic, spec, message);
        }
      }
      this.#private.delete(subscribeKey);
    }
  }

  #forgetPrivate(subscriber: StreamSubscriber, topic: string, subscribeKey: string): void {
    const bySubscriber = this.#private.get(subscribeKey);
    const topics = bySubscriber?.get(subscriber);
    topics?.delete(topic);
    if (topics?.size === 0) bySubscriber!.delete(subscriber);
    if (bySubscriber?.size === 0) this.#private.delete(subscribeKey);
  }
}

